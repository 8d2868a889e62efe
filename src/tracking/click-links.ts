import { Inject, Injectable } from '@nestjs/common';

import { isHttpUrl } from '../common/http-url';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { MessageRow } from '../messages/message.view';
import { ClickTarget, ClickTokenCodec } from './click-token';

const MAX_TARGET_LENGTH = 2048;

/** Tracked links for `extension.cta_url`: `<PUBLIC_URL>/t/<signed token>`, relative without PUBLIC_URL. */
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

  verify(token: string): ClickTarget | null {
    return this.codec.verify(token);
  }
}
