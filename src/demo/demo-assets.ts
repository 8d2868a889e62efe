import { Injectable, OnModuleInit } from '@nestjs/common';

import { pageSecurityPolicy, StaticPages } from '../common/static-pages';

/** The demo page, with the SDK bundle and its declarations beside its own files under /demo/. */
@Injectable()
export class DemoAssets extends StaticPages implements OnModuleInit {
  constructor() {
    // the SDK opens its socket to this origin
    super('demo page and SDK bundle', pageSecurityPolicy("'self' ws: wss:"), [
      ['', ''],
      ['demo', ''],
      ['demo/assets', 'assets/'],
    ]);
  }

  onModuleInit(): void {
    this.load();
  }
}
