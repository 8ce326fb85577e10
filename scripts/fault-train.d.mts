// Types of scripts/fault-train.mjs for the tests that import it.
export interface FaultSummary {
  trials: number;
  kills: number;
  killedInEvaluation: number;
  killedBeforeCheckpoint: number;
  resumes: number;
  stalesRemoved: number;
  referenceSeconds: number;
  evaluationSeconds: number;
}
export function makeTinyMnist(dir: string, nTrain?: number, nTest?: number): string;
export function trainArgs(dataDir: string, out: string, resume: boolean): string[];
export function bundleCli(dir: string): Promise<string>;
export function faultTrials(options: { runner: string; work: string; trials: number; killsPerTrial?: number; seed?: number; log?: (line: string) => void }): Promise<FaultSummary>;
