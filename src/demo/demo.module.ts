import { Module } from '@nestjs/common';

import { DemoController } from './demo.controller';
import { DemoAssets } from './demo-assets';
import { DemoTokenService } from './demo-token.service';

/** Dev mode or DEMO=true: the demo page, the SDK bundle it loads, and a player-token route. */
@Module({ controllers: [DemoController], providers: [DemoAssets, DemoTokenService] })
export class DemoModule {}
