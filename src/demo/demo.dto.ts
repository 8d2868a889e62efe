import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

import { BrandField } from '../common/brand-field.decorator';

export class DemoTokenRequestDto {
  @ApiProperty({ example: 'player-1' })
  @IsString({ message: 'ext_user_id must be a string' })
  @Length(1, 255, { message: 'ext_user_id must be 1-255 characters' })
  ext_user_id!: string;

  @ApiPropertyOptional({ description: 'seconds until the token expires; negative mints an already expired one', default: 900 })
  @IsOptional()
  @IsInt({ message: 'expires_in must be an integer number of seconds' })
  @Min(-3600, { message: 'expires_in must be at least -3600' })
  @Max(7 * 86_400, { message: 'expires_in must be at most 604800 (7 days)' })
  expires_in?: number;

  @BrandField("the player's brand (its `brand` claim); required when more than one brand is configured")
  brand?: string;
}

export interface DemoToken {
  token: string;
  brand: string;
  ext_user_id: string;
  expires_at: string;
}
