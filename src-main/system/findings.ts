/** What each OS module hands back, and the one way a check is made. */
import type { AirGapCheck, AirGapMount, AirGapResult } from '../../src-shared/domain/airGap';

export function check(Name: string, Result: AirGapResult, Evidence: string[], Advice = ''): AirGapCheck {
  return { Name, Result, Evidence, Advice: Result === 'PASS' ? '' : Advice };
}

/** What every OS module hands back: its checks, the mounts it saw, and its own blind spots. */
export interface PlatformFindings {
  checks: AirGapCheck[];
  mounts: AirGapMount[];
  blindSpots: string[];
}

