import { randomUUID } from 'node:crypto';

import { Inject, Injectable, Logger } from '@nestjs/common';

import { HostAllowlist } from '../common/host-allowlist';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { GatewayConfig } from '../config/env.validation';
import { MessageRepository } from '../messages/message.repository';
import { MessageEvents } from '../messages/message-events';
import { readWellKnownFields } from '../messages/message-fields';
import { PopupPolicy } from '../messages/popup-policy';
import { Metrics } from '../metrics/metrics.service';
import type { CustomImRequest } from './custom-im.parser';
import { GatewayAccepted, GatewayError, GatewayErrorCode } from './gateway.errors';

@Injectable()
export class GatewayService {
  private readonly logger = new Logger(GatewayService.name);
  private readonly callbackHosts: HostAllowlist;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly messages: MessageRepository,
    private readonly events: MessageEvents,
    private readonly metrics: Metrics,
    private readonly popups: PopupPolicy,
  ) {
    this.callbackHosts = new HostAllowlist(config.callbackAllowedHosts);
  }

  /** Stores the message durably and answers only after the commit; a replay answers the first id. */
  async accept(gateway: GatewayConfig, request: CustomImRequest): Promise<GatewayAccepted> {
    const callbackHost = new URL(request.callback_url).hostname;
    if (!this.callbackHosts.allows(callbackHost)) {
      throw new GatewayError(GatewayErrorCode.InvalidRequest, `callback_url host ${callbackHost} is not in CALLBACK_ALLOWED_HOSTS`);
    }
    const extension = request.extension ?? null;
    const fields = readWellKnownFields(request.extension);

    let outcome;
    try {
      const popupAllowed = await this.popups.allowAtIngest({ brand: gateway.brand, id: request.ext_user_id }, fields);
      outcome = await this.messages.insertOrFind({
        id: randomUUID(),
        gateway_id: gateway.id,
        brand: gateway.brand,
        im_uid: request.im_uid,
        ext_user_id: request.ext_user_id,
        body: request.body,
        callback_url: request.callback_url,
        extension,
        ...fields,
        popup_allowed: popupAllowed,
      });
    } catch (error) {
      this.logger.warn({ gatewayId: gateway.id, err: describe(error) }, 'message not stored');
      throw new GatewayError(GatewayErrorCode.Unavailable, 'temporarily unavailable; retry later (a retry with the same im_uid is never stored twice)');
    }

    if (outcome.kind === 'conflict') {
      throw new GatewayError(GatewayErrorCode.Conflict, `im_uid ${request.im_uid} was already accepted with different content`);
    }
    if (outcome.kind === 'created') {
      this.logger.debug({ gatewayId: gateway.id, messageId: outcome.id, imUid: request.im_uid }, 'message accepted');
      this.metrics.messagesAccepted.inc({ brand: gateway.brand });
      // stored for Smartico's sake, never shown: the player is under a responsible-gambling suppression (this wakes the
      // callbacks; no tab ever had it, so there is nothing to take back)
      if (outcome.row.suppressed_at !== null) this.events.publishChanged(outcome.row, ['rejected']);
      else this.events.publishAccepted(outcome.row);
    } else {
      // Smartico retries when it got no answer: the instance that stored the message may have died before announcing it
      void this.republishUndelivered(outcome.id);
    }
    return { error_code: GatewayErrorCode.Ok, ext_message_id: outcome.id };
  }

  private async republishUndelivered(id: string): Promise<void> {
    try {
      const [row] = await this.messages.findVisibleByIds([id]);
      if (row !== undefined && row.delivered_at === null) this.events.publishAccepted(row);
    } catch (error) {
      this.logger.debug({ messageId: id, err: describe(error) }, 'replayed message not pushed again');
    }
  }
}

function describe(error: unknown): { name: string; code?: string } {
  return error instanceof Error ? { name: error.name, code: (error as { code?: string }).code } : { name: typeof error };
}
