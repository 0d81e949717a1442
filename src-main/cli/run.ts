/** The bundled command's entry (scripts/buildCli.js): runs `keyroom` with this process's arguments. */
import { main } from './main';

process.exitCode = await main(process.argv.slice(2), process.env);
