#!/usr/bin/env python3
"""Run kqlfilter's jq-style test files (tests/kql/*.test).

A file holds groups separated by blank lines; '#' lines are comments.
A group has sections, each a line "name:" (or "name: value" for one-line
sections), in any order:

  query:   the query (one line after the colon, or the following lines)
  args:    extra command-line arguments, split like a shell would
  input:   NDJSON lines fed to stdin (none: empty input)
  output:  the exact stdout lines expected (none: no output)
  error:   the exact stderr lines expected (implies exit 3 unless exit: says)
  exit:    the expected exit status (default 0, or 3 with error:)

Inside a query a line holding only '~' stands for an empty line (an
empty line ends the group), for files of several blank-line-separated
queries.

usage: runner.py KQLFILTER FILE...   (EXEC_PREFIX is honoured)
Prints one line per failure and "N passed, N failed"; exit 1 on failure.

SPDX-License-Identifier: MIT
"""
import os
import shlex
import subprocess
import sys

SECTIONS = ('query', 'args', 'input', 'output', 'error', 'exit')


def groups(path):
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    cur, start = [], 0
    for i, line in enumerate(lines + ['']):
        if line.strip() == '':
            if cur:
                yield start, cur
            cur = []
            continue
        if line.startswith('#') and not cur:
            continue
        if not cur:
            start = i + 1
        cur.append(line)


def parse(lines):
    g, sec = {}, None
    for line in lines:
        head, sep, rest = line.partition(':')
        if sep and head in SECTIONS:
            sec = head
            g[sec] = []
            if rest.strip():
                g[sec].append(rest[1:] if rest.startswith(' ') else rest)
            continue
        if sec is None:
            raise ValueError('line outside a section: ' + line)
        g[sec].append(line)
    return g


def main():
    prog, files = sys.argv[1], sys.argv[2:]
    prefix = shlex.split(os.environ.get('EXEC_PREFIX', ''))
    passed = failed = 0
    for path in files:
        for lineno, lines in groups(path):
            where = f'{os.path.basename(path)}:{lineno}'
            try:
                g = parse(lines)
            except ValueError as e:
                print(f'FAIL {where}: bad test: {e}')
                failed += 1
                continue
            query = '\n'.join('' if l == '~' else l
                              for l in g.get('query', []))
            args = shlex.split(' '.join(g.get('args', [])))
            stdin = ''.join(l + '\n' for l in g.get('input', []))
            want_err = g.get('error')
            want_exit = int(g['exit'][0]) if 'exit' in g else (
                3 if want_err is not None else 0)
            cmd = prefix + [prog] + args + ([query] if query else [])
            p = subprocess.run(cmd, input=stdin.encode(), capture_output=True,
                               timeout=60)
            # Under Wine a process start fails now and then before the
            # program runs ("ShellExecuteEx failed"); that is Wine's, not
            # kqlfilter's, so such a start is tried once more.
            if p.returncode != 0 and b'ShellExecuteEx failed' in (
                    p.stdout + p.stderr):
                p = subprocess.run(cmd, input=stdin.encode(),
                                   capture_output=True, timeout=60)
            out = p.stdout.decode('utf-8', 'replace').split('\n')
            if out and out[-1] == '':
                out.pop()
            err = p.stderr.decode('utf-8', 'replace').split('\n')
            if err and err[-1] == '':
                err.pop()
            msgs = []
            if p.returncode != want_exit:
                msgs.append(f'exit {p.returncode}, want {want_exit}')
            if 'output' in g and out != g['output']:
                msgs.append('stdout:\n    got:  ' + '\n          '.join(out)
                            + '\n    want: ' + '\n          '.join(g['output']))
            if want_err is not None and err != want_err:
                msgs.append('stderr:\n    got:  ' + '\n          '.join(err)
                            + '\n    want: ' + '\n          '.join(want_err))
            if want_err is None and p.returncode == 0 and err and \
                    'output' in g and not any('warning' in e for e in err):
                msgs.append('unexpected stderr: ' + ' | '.join(err))
            if msgs:
                failed += 1
                print(f'FAIL {where}: {query[:70]!r}')
                for m in msgs:
                    print('  ' + m)
            else:
                passed += 1
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
