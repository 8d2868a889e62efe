import { Module } from '@nestjs/common';

import { ConsoleController } from './console.controller';
import { ConsolePages } from './console-pages';

/** Always on: the page carries no secret, the support key it is given decides what it sees. */
@Module({ controllers: [ConsoleController], providers: [ConsolePages] })
export class ConsoleModule {}
