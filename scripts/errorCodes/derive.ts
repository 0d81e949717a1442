/**
 * Which error codes each operation can answer, derived from the code instead of kept by hand
 * (hand lists drifted: VerifyFile left out Rejected.KeyState, SignFile Keystore.Io).
 *
 * The TypeScript checker walks from each operation's handler through every function, method,
 * getter and constructor of ours it can reach (an interface method reaches every class that
 * implements it), and collects the string literals that are error codes where an ErrorCode is
 * expected: `new KmsError('X', ...)`, a `Record<_, ErrorCode>` table, a function returning
 * ErrorCode. It over-approximates (a branch this operation never takes still counts), which is
 * the safe side for documentation: no code an operation can answer is missing.
 */
import ts from 'typescript';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HANDLER_TABLE = join(ROOT, 'src-main/handlers/handlerTable.ts');
const DISPATCH = join(ROOT, 'src-main/handlers/dispatch.ts');
const SESSION = join(ROOT, 'src-main/services/session.ts');

export interface DerivedErrors {
  /** Codes every call can answer (input validation in dispatch, and Internal). */
  common: string[];
  /** What opening the keystore adds for operations that need it open (the CLI opens it per command). */
  open: string[];
  /** Per operation, the codes its handler reaches. */
  operations: Record<string, string[]>;
}

export function deriveErrorCodes(): DerivedErrors {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error('tsconfig.json could not be read');
  const program = ts.createProgram({ rootNames: [HANDLER_TABLE, DISPATCH, SESSION], options: config.options });
  const checker = program.getTypeChecker();
  const ours = (sf: ts.SourceFile) => !sf.isDeclarationFile && !relative(ROOT, sf.fileName).startsWith('..') && !sf.fileName.includes('node_modules');
  const errorCodes = new Set(readErrorCodes(program));
  const implementations = classesByInterface(program, ours);
  const cache = new Map<ts.Node, Set<string>>();

  /** Codes reachable from `start`, following calls into our own code. */
  function reach(start: ts.Node): Set<string> {
    const found = new Set<string>();
    const seen = new Set<ts.Node>();
    const queue: ts.Node[] = [start];
    while (queue.length > 0) {
      const node = queue.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      const cached = cache.get(node);
      if (cached && node !== start) {
        cached.forEach((c) => found.add(c));
        continue;
      }
      visit(node);
    }
    return found;

    function visit(n: ts.Node): void {
      if (ts.isStringLiteralLike(n) && errorCodes.has(n.text) && expectsErrorCode(n)) found.add(n.text);
      if (ts.isCallExpression(n) || ts.isNewExpression(n) || ts.isDecorator(n)) follow(n.expression);
      if (ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n)) followAccessor(n);
      ts.forEachChild(n, visit);
    }

    function follow(callee: ts.Expression): void {
      const symbol = resolvedSymbol(callee);
      for (const decl of symbol?.declarations ?? []) enqueueDeclaration(decl);
    }

    function followAccessor(n: ts.PropertyAccessExpression | ts.ElementAccessExpression): void {
      const symbol = resolvedSymbol(n);
      for (const decl of symbol?.declarations ?? []) if (ts.isGetAccessorDeclaration(decl)) enqueueDeclaration(decl);
    }

    function enqueueDeclaration(decl: ts.Declaration): void {
      if (!ours(decl.getSourceFile())) return;
      if (ts.isFunctionDeclaration(decl) || ts.isMethodDeclaration(decl) || ts.isGetAccessorDeclaration(decl) || ts.isConstructorDeclaration(decl)) {
        queue.push(decl);
      } else if (ts.isClassDeclaration(decl)) {
        for (const m of decl.members) if (ts.isConstructorDeclaration(m) || ts.isPropertyDeclaration(m)) queue.push(m);
      } else if (ts.isVariableDeclaration(decl) && decl.initializer && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer))) {
        queue.push(decl.initializer);
      } else if (ts.isMethodSignature(decl) || ts.isPropertySignature(decl)) {
        // An interface's method: every class of ours that implements the interface.
        const iface = decl.parent;
        if (ts.isInterfaceDeclaration(iface)) {
          const name = decl.name.getText();
          for (const cls of implementations.get(iface.name.text) ?? []) {
            for (const m of cls.members) if (m.name?.getText() === name) queue.push(m);
          }
        }
      } else if (ts.isPropertyDeclaration(decl) && decl.initializer) {
        queue.push(decl.initializer);
      }
    }
  }

  function resolvedSymbol(expr: ts.Expression): ts.Symbol | undefined {
    let symbol = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(expr) ? expr.name : expr);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return symbol;
  }

  /** A literal counts where an ErrorCode is what the code expects there. */
  function expectsErrorCode(lit: ts.StringLiteralLike): boolean {
    const parent = lit.parent;
    if (ts.isNewExpression(parent) && parent.arguments?.[0] === lit && parent.expression.getText() === 'KmsError') return true;
    const contextual = checker.getContextualType(lit as ts.Expression);
    return contextual !== undefined && isErrorCodeType(contextual);
  }

  function isErrorCodeType(t: ts.Type): boolean {
    if (t.aliasSymbol?.name === 'ErrorCode') return true;
    const members = t.isUnion() ? t.types : [t];
    const literals = members.filter((m): m is ts.StringLiteralType => m.isStringLiteral());
    // The whole ErrorCode union, or a subset of it spelled out (a narrowed Record key, a list).
    return literals.length > 3 && literals.every((m) => errorCodes.has(m.value));
  }

  const table = program.getSourceFile(HANDLER_TABLE)!;
  const handlers = findHandlers(table);
  const operations: Record<string, string[]> = {};
  for (const [name, fn] of handlers) operations[name] = sorted(reach(fn));

  const dispatchFile = program.getSourceFile(DISPATCH)!;
  const parseInput = findCallee(dispatchFile, 'parseInput');
  const common = sorted(new Set([...(parseInput ? reach(parseInput) : []), 'InvalidParameter', 'MissingParameter', 'Internal']));
  const sessionFile = program.getSourceFile(SESSION)!;
  const open = sorted(new Set([...reach(findMethod(sessionFile, 'unlock')), ...reach(findMethod(sessionFile, 'carryOutDueWork')), ...reach(findGetter(sessionFile, 'kms'))]));
  return { common, open, operations };

  function findCallee(sf: ts.SourceFile, name: string): ts.Node | undefined {
    let out: ts.Node | undefined;
    const walk = (n: ts.Node): void => {
      if (!out && ts.isCallExpression(n) && n.expression.getText() === name) {
        const decl = resolvedSymbol(n.expression)?.declarations?.[0];
        if (decl) out = decl;
      }
      ts.forEachChild(n, walk);
    };
    walk(sf);
    return out;
  }
}

/** The HANDLERS object literal: operation name -> its arrow function. */
function findHandlers(sf: ts.SourceFile): Map<string, ts.Node> {
  const out = new Map<string, ts.Node>();
  const walk = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && n.name.getText() === 'HANDLERS' && n.initializer && ts.isObjectLiteralExpression(n.initializer)) {
      for (const p of n.initializer.properties) if (ts.isPropertyAssignment(p)) out.set(p.name.getText(), p.initializer);
    }
    ts.forEachChild(n, walk);
  };
  walk(sf);
  if (out.size === 0) throw new Error('HANDLERS not found in handlerTable.ts');
  return out;
}

function findMethod(sf: ts.SourceFile, name: string): ts.Node {
  return findMember(sf, (m) => ts.isMethodDeclaration(m) && m.name.getText() === name, name);
}

function findGetter(sf: ts.SourceFile, name: string): ts.Node {
  return findMember(sf, (m) => ts.isGetAccessorDeclaration(m) && m.name.getText() === name, name);
}

function findMember(sf: ts.SourceFile, test: (m: ts.ClassElement) => boolean, what: string): ts.Node {
  let out: ts.Node | undefined;
  const walk = (n: ts.Node): void => {
    if (ts.isClassDeclaration(n)) for (const m of n.members) if (!out && test(m)) out = m;
    ts.forEachChild(n, walk);
  };
  walk(sf);
  if (!out) throw new Error(`${what} not found in ${sf.fileName}`);
  return out;
}

/** interface name -> our classes that implement it. */
function classesByInterface(program: ts.Program, ours: (sf: ts.SourceFile) => boolean): Map<string, ts.ClassDeclaration[]> {
  const out = new Map<string, ts.ClassDeclaration[]>();
  for (const sf of program.getSourceFiles()) {
    if (!ours(sf)) continue;
    const walk = (n: ts.Node): void => {
      if (ts.isClassDeclaration(n)) {
        for (const clause of n.heritageClauses ?? []) {
          if (clause.token !== ts.SyntaxKind.ImplementsKeyword) continue;
          for (const t of clause.types) {
            const name = t.expression.getText();
            out.set(name, [...(out.get(name) ?? []), n]);
          }
        }
      }
      ts.forEachChild(n, walk);
    };
    walk(sf);
  }
  return out;
}

/** ERROR_CODES as written in src-shared/errors.ts. */
function readErrorCodes(program: ts.Program): string[] {
  const sf = program.getSourceFile(join(ROOT, 'src-shared/errors.ts'));
  if (!sf) throw new Error('src-shared/errors.ts is not in the program');
  const codes: string[] = [];
  const walk = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && n.name.getText() === 'ERROR_CODES' && n.initializer) {
      const walkLit = (m: ts.Node): void => {
        if (ts.isStringLiteral(m)) codes.push(m.text);
        ts.forEachChild(m, walkLit);
      };
      walkLit(n.initializer);
    }
    ts.forEachChild(n, walk);
  };
  walk(sf);
  return codes;
}

function sorted(s: Iterable<string>): string[] {
  return [...s].sort();
}
