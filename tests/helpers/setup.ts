/** Jest set-up for every test file: the tfjs-node banner is noise here too (see src/cli/quiet-tfjs.ts). */
import { suppressTfjsNodeBanner } from '../../src/cli/quiet-tfjs';

suppressTfjsNodeBanner();
