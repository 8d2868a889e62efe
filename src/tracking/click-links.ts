import { Inject, Injectable } from '@nestjs/common';

import { isHttpUrl } from '../common/http-url';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { ButtonView, MessageRow } from '../messages/message.view';
import { MessageButton, readButtons } from '../messages/message-buttons';
import { ClickTarget, ClickTokenCodec } from './click-token';

const MAX_TARGET_LENGTH = 2048;

/** Tracked links for `extension.cta_url` and url buttons: `<PUBLIC_URL>/t/<signed token>`, relative without PUBLIC_URL. */
@Injectable()
export class ClickLinks {
  private readonly codec: ClickTokenCodec;
  private readonly base: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.codec = new ClickTokenCodec(config.linkSecret);
    this.base = config.publicUrl ?? '';
  }

  ctaLink(row: Pick<MessageRow, 'id' | 'extension'>): string | null {
    const target = row.extension?.cta_url;
    if (typeof target !== 'string' || target.length > MAX_TARGET_LENGTH || !isHttpUrl(target)) return null;
    return `${this.base}/t/${this.codec.sign(row.id, target)}`;
  }

  /** extension.buttons as the view shows them: each `url` button with a tracked link of its own */
  buttons(row: Pick<MessageRow, 'id' | 'extension'>): ButtonView[] {
    return readButtons(row.extension).map((button) => ({ id: button.id, text: button.text, link: this.buttonLink(row.id, button), action: button.action }));
  }

  button(row: Pick<MessageRow, 'extension'>, buttonId: string): MessageButton | undefined {
    return readButtons(row.extension).find((button) => button.id === buttonId);
  }

  private buttonLink(messageId: string, button: MessageButton): string | null {
    if (button.url === null || Buffer.byteLength(button.id) > 255) return null;
    return `${this.base}/t/${this.codec.sign(messageId, button.url, button.id)}`;
  }

  verify(token: string): ClickTarget | null {
    return this.codec.verify(token);
  }
}
