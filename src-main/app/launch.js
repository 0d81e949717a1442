#!/usr/bin/env node
// `npm start`: build the three targets, find the Electron binary (fetching it if this machine can),
// and open the app. Where no binary can be had, say so plainly and say how to get one.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'package.json'));

function electronBinary() {
  try {
    return require('electron'); // the path of the binary, or a throw when it was never downloaded
  } catch {
    return undefined;
  }
}

function run(cmd, args, env = process.env) {
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env }).status ?? 1;
}

if (run(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build']) !== 0) {
  console.error('Keyroom: the build failed (see above).');
  process.exit(1);
}

let binary = electronBinary();
if (!binary) {
  // Installs here skip the download (ELECTRON_SKIP_BINARY_DOWNLOAD=1); try it once now.
  const env = { ...process.env };
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  console.error('Keyroom: no Electron binary yet; trying to fetch it...');
  const fetch = spawnSync(process.execPath, [join(root, 'node_modules', 'electron', 'install.js')], { cwd: root, env, encoding: 'utf8' });
  const why = `${fetch.stderr}`.split('\n').find((l) => /error/i.test(l));
  if (fetch.status !== 0) console.error(`Keyroom: fetching Electron failed${why ? `: ${why.trim()}` : ''}.`);
  binary = electronBinary();
}

if (!binary) {
  console.error(`
Keyroom did not start: there is no Electron binary on this machine, and it cannot be
downloaded from here (Electron's binary comes from GitHub, not from the npm registry).

To get one:
  * On a machine with Internet access: clone Keyroom, run \`npm ci\` and \`npm start\`
    there; npm fetches Electron into node_modules/electron/dist.
  * To carry it to the air-gapped workstation: copy the whole Keyroom folder (with
    node_modules) from a connected machine of the same OS and CPU on removable media,
    or copy only an Electron ${require('electron/package.json').version} dist folder and point to it:
        ELECTRON_OVERRIDE_DIST_PATH=/media/usb/electron-dist npm start
    Check the SHA-256 of what you carry against Electron's published SHASUMS256.txt.

Everything Keyroom does is also available from the command line meanwhile:
    npx keyroom --help
`);
  process.exit(1);
}

process.exit(run(binary, [root]));
