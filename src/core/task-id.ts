/**
 * A task is one sub-topology on one partition: `<subtopology>_<partition>`, as Kafka Streams
 * names them (e.g. `0_3`).
 */
export type TaskId = `${number}_${number}`;

export function taskId(subtopology: number, partition: number): TaskId {
  return `${subtopology}_${partition}`;
}

export function parseTaskId(id: string): { subtopology: number; partition: number } | undefined {
  const match = /^(\d+)_(\d+)$/.exec(id);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { subtopology: Number(match[1]), partition: Number(match[2]) };
}
