import type { ConsumerGroupMetadata } from './types.ts';

/**
 * A group's place with no generation or member (-1, ''): what a client that cannot send them
 * reports, and offsets sent by no member. The broker checks no generation for these.
 */
export const groupOnly = (groupId: string): ConsumerGroupMetadata => ({
  groupId,
  generationId: -1,
  memberId: '',
});
