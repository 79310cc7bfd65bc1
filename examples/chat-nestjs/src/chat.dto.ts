/** The payloads of `join` and `say`, checked by Nest's ValidationPipe (class-validator). */
import { Transform } from 'class-transformer';
import { IsString, Length, Matches } from 'class-validator';
import { LIMITS, NICK_PATTERN, ROOM_PATTERN } from '@wsuite/example-chat-common';

const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

export class JoinDto {
  @Transform(trim)
  @IsString()
  @Length(1, LIMITS.nick)
  @Matches(NICK_PATTERN, { message: 'nick must not contain control characters' })
  nick!: string;

  @IsString()
  @Matches(ROOM_PATTERN, { message: `room must be 1 to ${LIMITS.room} lower-case letters, digits, "-" or "_"` })
  room!: string;
}

export class SayDto {
  @Transform(trim)
  @IsString()
  @Length(1, LIMITS.text)
  text!: string;
}
