/**
 * The air-gap self-test: the checks every OS shares (the clock), the blind spots, and the report
 * with its verdict (the worst result). Each OS module (linux.ts, macos.ts, windows.ts) turns what
 * that OS exposes into checks; this module picks the one for the running platform.
 */
import { worstResult, type AirGapCheck, type AirGapReport } from '../../src-shared/domain/airGap';
import { KEYROOM_RELEASE_DATE } from '../version';
import { linuxSelfTest } from './linux';
import { macosSelfTest } from './macos';
import { windowsSelfTest } from './windows';
import { runCommand, type CommandRunner } from './runCommand';
import { check, type PlatformFindings } from './findings';

/** What no software on the machine can see, whatever the OS: the plan's physical checks. */
export const COMMON_BLIND_SPOTS: readonly string[] = [
  'A management controller with its own network stack (Intel AMT/ME, AMD DASH, a server BMC) works below the operating system: check in the firmware setup that it is off, or use a machine without one.',
  'A radio without a driver (a Wi-Fi, Bluetooth or cellular chip the OS has no driver for) is invisible here: remove the card or check the hardware inventory.',
  'A cable, a USB network adapter or a phone for tethering plugged in after the test: keep the ports in sight, and run the test again before each irreversible step.',
  'Devices that are not network interfaces yet (a USB device that turns into one, a keyboard that types) and acoustic, optical or electromagnetic channels.',
];

export interface ClockBounds {
  /** The clock must read at or after this (the plan's earliest date). */
  notBefore?: Date;
  /** The clock must read before this (the plan's latest date: a certificate's validity, a token's expiry). */
  notAfter?: Date;
}

/**
 * The clock is sane: not before this release was made (a clock that reads earlier is certainly
 * wrong), and within the plan's dates when given. Dates written into certificates, the audit log
 * and the transcript come from it.
 */
export function clockCheck(now: Date, bounds: ClockBounds, releaseDate: string = KEYROOM_RELEASE_DATE): AirGapCheck {
  const evidence = [`system clock: ${now.toISOString()}`, `Keyroom release date: ${releaseDate}`];
  if (bounds.notBefore) evidence.push(`plan not before: ${bounds.notBefore.toISOString()}`);
  if (bounds.notAfter) evidence.push(`plan not after: ${bounds.notAfter.toISOString()}`);
  const problems: string[] = [];
  if (now.getTime() < Date.parse(`${releaseDate}T00:00:00Z`)) problems.push(`it reads earlier than this Keyroom release (${releaseDate})`);
  if (bounds.notBefore && now < bounds.notBefore) problems.push(`it reads earlier than the plan's first date (${bounds.notBefore.toISOString()})`);
  if (bounds.notAfter && now >= bounds.notAfter) problems.push(`it reads later than the plan's last date (${bounds.notAfter.toISOString()})`);
  if (problems.length === 0) return check('clock', 'PASS', evidence);
  return check('clock', 'FAIL', evidence, `The system clock is wrong: ${problems.join('; ')}. Set it from a reference clock a witness reads out, then run the test again.`);
}

export function assembleReport(platform: string, now: Date, findings: PlatformFindings, bounds: ClockBounds): AirGapReport {
  const checks = [...findings.checks, clockCheck(now, bounds)];
  return {
    Verdict: worstResult(checks.map((c) => c.Result)),
    Checks: checks,
    BlindSpots: [...COMMON_BLIND_SPOTS, ...findings.blindSpots],
    Platform: platform,
    Time: now.toISOString(),
    Mounts: findings.mounts,
  };
}

export interface SelfTestOptions extends ClockBounds {
  now?: Date;
  /** process.platform unless a test says otherwise. */
  platform?: string;
  /** Linux: the root the /sys and /proc reads start from ('/' unless a test points at a fake tree). */
  linuxRoot?: string;
  /** macOS and Windows: how their commands are run (tests play recorded outputs). */
  run?: CommandRunner;
}

/**
 * Run the self-test for this machine. It only reads: nothing is written, nothing is changed, and a
 * probe that fails becomes a FAIL or WARN naming what could not be read, never an exception.
 * The ceremony's `selftest` step calls this too.
 */
export async function runAirGapSelfTest(opts: SelfTestOptions = {}): Promise<AirGapReport> {
  const platform = opts.platform ?? process.platform;
  const now = opts.now ?? new Date();
  const run = opts.run ?? runCommand;
  let findings: PlatformFindings;
  if (platform === 'linux') findings = await linuxSelfTest(opts.linuxRoot ?? '/');
  else if (platform === 'darwin') findings = await macosSelfTest(run);
  else if (platform === 'win32') findings = await windowsSelfTest(run);
  else {
    findings = {
      checks: [check('platform', 'FAIL', [`platform: ${platform}`], `Keyroom has no self-test for ${platform}: check the network, radios and swap by hand and record it as an exception.`)],
      mounts: [],
      blindSpots: [],
    };
  }
  return assembleReport(platform, now, findings, opts);
}
