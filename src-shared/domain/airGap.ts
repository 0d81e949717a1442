/**
 * The air-gap self-test's report (AirGapSelfTest, and a ceremony's `selftest` step): each check's
 * result with the raw values it read, the verdict (the worst result), and what software cannot see.
 */
export type AirGapResult = 'PASS' | 'WARN' | 'FAIL';

export const AIR_GAP_RESULTS = ['PASS', 'WARN', 'FAIL'] as const satisfies readonly AirGapResult[];

export interface AirGapCheck {
  /** Stable name, e.g. `network.interfaces`, `network.defaultRoutes`, `radios`, `swap`. */
  Name: string;
  Result: AirGapResult;
  /** The raw values read, one line each (`eth0: flags=0x1003 operstate=up carrier=1`). */
  Evidence: string[];
  /** What to do about a WARN or FAIL (empty for a PASS). */
  Advice: string;
}

export interface AirGapMount {
  Source: string;
  MountPoint: string;
  Type: string;
  /** On removable media (a USB stick, an SD card), as far as the OS says. */
  Removable: boolean;
  /** How the mount was classified: the device, a FUSE driver's image file, a network file system. */
  Note?: string;
}

export interface AirGapReport {
  Verdict: AirGapResult;
  Checks: AirGapCheck[];
  /** What no software check can see: for the plan's physical checks. */
  BlindSpots: string[];
  /** linux, darwin or win32 (Node's names). */
  Platform: string;
  /** The system clock when the test ran, ISO-8601 UTC. */
  Time: string;
  /** Every mounted file system, removable media marked. */
  Mounts: AirGapMount[];
}

/** The worst of the results: FAIL over WARN over PASS (PASS for none). */
export function worstResult(results: readonly AirGapResult[]): AirGapResult {
  return results.reduce<AirGapResult>((worst, r) => (AIR_GAP_RESULTS.indexOf(r) > AIR_GAP_RESULTS.indexOf(worst) ? r : worst), 'PASS');
}
