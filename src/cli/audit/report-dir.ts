/** A report folder: index.html, images/ (written by the workers as they go) and results.jsonl, the records it shows. */
import { promises as fs } from 'fs';
import * as path from 'path';
import { reportHtml } from './html';
import { writeRecords, type AuditRecord } from './record';

export const REPORT_RECORDS = 'results.jsonl';

export async function writeReport(dir: string, records: AuditRecord[]): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await writeRecords(path.join(dir, REPORT_RECORDS), records);
  const page = path.join(dir, 'index.html');
  await fs.writeFile(page, reportHtml(records));
  return page;
}
