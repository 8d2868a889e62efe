import { Injectable } from '@nestjs/common';

import type { MessageRow } from '../messages/message.table';
import { MessageView, toMessageView } from '../messages/message.view';
import type { MessageButton } from '../messages/message-buttons';
import { PopupPolicy } from '../messages/popup-policy';
import { ClickLinks } from './click-links';

/** Builds the view players get (SPEC §3): the row with its tracked links and this delivery's popup decision. */
@Injectable()
export class MessageViews {
  constructor(
    private readonly links: ClickLinks,
    private readonly popups: PopupPolicy,
  ) {}

  button(row: MessageRow, buttonId: string): MessageButton | undefined {
    return this.links.button(row, buttonId);
  }

  of(row: MessageRow): MessageView {
    return toMessageView(row, { ctaLink: this.links.ctaLink(row), buttons: this.links.buttons(row), popup: this.popups.isPopup(row) });
  }
}
