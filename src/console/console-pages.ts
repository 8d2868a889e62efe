import { Injectable, OnModuleInit } from '@nestjs/common';

import { pageSecurityPolicy, StaticPages } from '../common/static-pages';

/** The console's built page, script and styles (client/console → dist/client/console). */
@Injectable()
export class ConsolePages extends StaticPages implements OnModuleInit {
  constructor() {
    // it talks only to this origin's /support API
    super('support console', pageSecurityPolicy("'self'"), [['console', '']]);
  }

  onModuleInit(): void {
    this.load();
  }
}
