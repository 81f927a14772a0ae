import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The guard against untranslated desk strings (issue 15): the desk's components may not put Latin
 * letters on screen from the source itself. Every visible word comes from `t()` (locales/). Checked:
 * JSX text, the attributes people read (title, aria-label, placeholder, alt, label) and string
 * literals or templates placed straight into the markup (also as a `?:` branch). Allowed: the brand
 * "Huiliu". data-testid and other attributes are not text and not checked.
 */
/** The admin pages' folders have their own guard (components/admin-i18n-guard.test.ts). */
const ADMIN_FOLDERS = /^\.\/components\/(routing|apps|audit|board|kpis|supervision|privacy)\//;
/** The components' sources, read by the bundler (the renderer is a web page: no node:fs here). */
const SOURCES = import.meta.glob<string>(['./components/**/*.tsx', '!./**/*.test.tsx'], {
  query: '?raw',
  import: 'default',
  eager: true,
});
const READ_ATTRIBUTES = new Set(['title', 'aria-label', 'placeholder', 'alt', 'label']);
const ALLOWED = /\bHuiliu\b/g;
const latin = (text: string) => /[A-Za-z]/.test(text.replace(ALLOWED, ''));

/** Every piece of Latin text the source of one TSX file puts on screen, as `line: text`. */
export function untranslated(source: string, file = 'x.tsx'): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const report = (node: ts.Node, text: string) => {
    if (latin(text)) found.push(`${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}: ${text.trim()}`);
  };
  /** The literal text an expression shows when it is a string, a template or a `?:`/`&&`/`??` of them. */
  const shown = (e: ts.Expression): void => {
    if (ts.isParenthesizedExpression(e)) return shown(e.expression);
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return report(e, e.text);
    if (ts.isTemplateExpression(e)) return report(e, [e.head.text, ...e.templateSpans.map((s) => s.literal.text)].join(' '));
    if (ts.isConditionalExpression(e)) {
      shown(e.whenTrue);
      shown(e.whenFalse);
    } else if (
      ts.isBinaryExpression(e) &&
      [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(e.operatorToken.kind)
    ) {
      shown(e.right);
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node)) report(node, node.text);
    else if (ts.isJsxExpression(node) && node.expression && (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent)))
      shown(node.expression);
    else if (ts.isJsxAttribute(node) && READ_ATTRIBUTES.has(node.name.getText(sf)) && node.initializer) {
      if (ts.isStringLiteral(node.initializer)) report(node, node.initializer.text);
      else if (ts.isJsxExpression(node.initializer) && node.initializer.expression) shown(node.initializer.expression);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('no untranslated text in the desk (issue 15)', () => {
  it('finds Latin text in markup, read attributes and literal branches, and lets the brand, t() and test ids be', () => {
    const sample = `export const A = () => (
      <div title="Open it" data-testid="queue-item" className="x">
        汇流 <span>Huiliu</span>
        Waiting
        {busy ? 'Loading…' : t('done')}
        {\`\${n}s left\`}
        <input placeholder={t('hint')} aria-label={'Reply'} />
        {t('ok')} {name} · #{seq} ✓
      </div>
    );`;
    expect(untranslated(sample)).toEqual(['2: Open it', '4: Waiting', '5: Loading…', '6: s left', '7: Reply']);
  });

  // Every desk component, the ones added later (collision, outbox, shortcuts, softphone…) included.
  const desk = Object.keys(SOURCES).filter((f) => !ADMIN_FOLDERS.test(f));
  it('covers the desk', () => {
    for (const f of ['Conversation.tsx', 'QueueList.tsx', 'collision/ViewersBar.tsx', 'softphone/Softphone.tsx']) {
      expect(desk).toContain(`./components/${f}`);
    }
  });
  for (const file of desk) {
    it(`${file} shows only translated words`, () => {
      expect(untranslated(SOURCES[file]!, file)).toEqual([]);
    });
  }
});
