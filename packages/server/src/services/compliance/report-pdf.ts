import PDFDocument from 'pdfkit';
import type { ComplianceReport } from './documents.js';

const STATUS_COLOUR: Record<string, string> = { covered: '#1b7f3b', partial: '#a66300', gap: '#b3261e' };

/**
 * The coverage report as a PDF (pdfkit, built-in Helvetica: no font files to ship). Same content as the Markdown
 * form, minus the raw evidence values, which stay in the JSON and Markdown forms.
 *
 * @example
 * const pdf = await renderReportPdf(buildComplianceReport(status, url, Date.now()));
 */
export function renderReportPdf(report: ComplianceReport): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Compliance coverage report — ${report.agent_name}`, Producer: 'Tollgate', Creator: 'Tollgate' } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.font('Helvetica-Bold').fontSize(18).text(`Compliance coverage report — agent ${report.agent_name}`);
  doc.moveDown(0.5).font('Helvetica-Oblique').fontSize(9).text(report.disclaimer);
  doc.moveDown(0.5).font('Helvetica').fontSize(9).text(`Generated ${report.generated_at} by Tollgate for agent id ${report.agent_id}.`);
  doc.moveDown();
  for (const s of report.summary) {
    doc.font('Helvetica-Bold').fontSize(11).text(`${s.framework_name}: ${s.coverage_percent}% — ${s.label}`, { continued: false });
    doc.font('Helvetica').fontSize(9).text(`${s.covered} covered, ${s.partial} partial, ${s.gap} gap of ${s.total}; evaluated ${s.evaluated_at}${s.stale ? ' (stale)' : ''}`);
  }
  for (const framework of report.frameworks) {
    doc.addPage().font('Helvetica-Bold').fontSize(14).text(`${framework.framework_name} (${framework.source})`);
    doc.moveDown(0.5);
    for (const control of framework.controls) {
      doc.font('Helvetica-Bold').fontSize(10).fillColor(STATUS_COLOUR[control.status] ?? '#000000').text(`${control.status.toUpperCase()}  `, { continued: true })
        .fillColor('#000000').text(`${control.id} — ${control.title} (${control.reference})`);
      doc.font('Helvetica').fontSize(8.5);
      for (const check of control.checks) doc.text(`• ${check.title} (${check.status}): ${check.summary}`, { indent: 12 });
      for (const step of control.remediation) doc.text(`→ ${step}`, { indent: 12 });
      doc.moveDown(0.4);
    }
  }
  const cp = report.verification.checkpoint;
  doc.addPage().font('Helvetica-Bold').fontSize(14).text('Ledger evidence and how to verify it');
  doc.moveDown(0.5).font('Helvetica').fontSize(9);
  if (cp) {
    doc.text(`Log ${cp.origin}, tree size ${cp.tree_size}, root hash ${cp.root_hash}, signed ${cp.created_at} (signature ${cp.signature_valid ? 'verified' : 'did NOT verify'}).`);
    doc.moveDown(0.5).text('Checkpoint note (save verbatim as checkpoint.txt):');
    doc.font('Courier').fontSize(7.5).text(cp.note.trimEnd());
  } else {
    doc.text('The ledger had no signed checkpoint at evaluation time.');
  }
  doc.moveDown(0.5).font('Helvetica').fontSize(9).text('Verify offline, without trusting this server:');
  doc.font('Courier').fontSize(7.5).text(report.verification.commands.join('\n'));
  doc.end();
  return done;
}
