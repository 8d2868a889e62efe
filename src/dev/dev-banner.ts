import type { EnvConfig } from '../config/app.config';

/** What dev mode prints once listening: the made-up secrets and a request that works as pasted. */
export function devBanner(config: EnvConfig): string {
  const gateway = config.gateways[0];
  const base = `http://127.0.0.1:${config.port}`;
  const sample = JSON.stringify({
    ext_user_id: 'player-1',
    from_number: null,
    body: 'Best offer ever',
    im_uid: 'demo-1',
    callback_url: `${base}/dev/callback`,
    extension: { title: 'Microsoft is raising', description: 'The bullish trend...', action: 'BUY', instrument: 'MSFT' },
  });
  return [
    '',
    '  cim-inbox is running in DEV MODE (no gateway configured; secrets kept in DATA_DIR/dev-secrets.json)',
    '',
    `    gateway id         default`,
    `    Authorization      ${gateway.authorization}`,
    `    Smartico api_key   ${gateway.apiKey}`,
    `    player JWT secret  ${config.player.jwtSecret ?? '(from PLAYER_JWKS_URL)'}`,
    `    support API key    ${config.supportApiKeys[0] ?? '(none)'}   (curl -H 'Authorization: Bearer …' ${base}/support/messages)`,
    `    operator API key   ${config.operatorApiKeys[0] ?? '(none)'}`,
    `    API docs           ${base}/docs`,
    `    demo page          ${base}/demo   (a player's view: popups, bell, inbox)`,
    `    support console    ${base}/console   (sign in with the support API key above)`,
    '',
    '  Post a Custom IM as Smartico would (a replay of the same im_uid answers the same ext_message_id):',
    '',
    `    curl -s -X POST ${base}/gateway/custom-im -H 'Authorization: ${gateway.authorization}' -H 'Content-Type: application/json' -d '${sample}'`,
    '',
    '  or open the demo page and run `npm run simulate -- --user player-1` in another terminal.',
    '',
    '',
  ].join('\n');
}
