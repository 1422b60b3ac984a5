// A ResourceWatch against an API stand-in (no sockets): each whole list, the
// first and every relist after a 410, is announced once (the agent hands the
// list's freed memory back then), and objects gone meanwhile are removed.
import test from 'ava';
import type { ApiClient } from '../../agent/src/kubernetes/api.js';
import { ResourceWatch } from '../../agent/src/kubernetes/informers.js';
import { createLogger } from '../../agent/src/log.js';

type Event = [type: string, obj: unknown];

function standIn(lists: string[][], watches: Event[][]) {
  const calls: string[] = [];
  let list = 0;
  const api = {
    async request(_method: string, path: string) {
      calls.push(`list ${path}`);
      const names = lists[Math.min(list++, lists.length - 1)]!;
      return { metadata: { resourceVersion: String(list) }, items: names.map((name) => ({ metadata: { namespace: 'ns', name } })) };
    },
    watch(path: string, _q: unknown, onEvent: (type: string, obj: unknown) => void, done: (err?: unknown) => void) {
      calls.push(`watch ${path}`);
      const abort = new AbortController();
      const events = watches.shift();
      // No more scripted watches: stays open until stopped, and then ends as the client's does.
      if (!events) abort.signal.addEventListener('abort', () => done(new DOMException('aborted', 'AbortError')));
      else {
        setImmediate(() => {
          for (const [type, obj] of events) onEvent(type, obj);
          done();
        });
      }
      return abort;
    },
  };
  return { api: api as unknown as ApiClient, calls };
}

test('listed() after the first list and after a relist; what the relist lacks is removed', async (t) => {
  const { api, calls } = standIn([['a', 'b'], ['b']], [[['ERROR', { code: 410 }]]]);
  const seen: string[] = [];
  let listed = 0;
  const w = new ResourceWatch(api, 'pods', '/api/v1/pods', {
    upsert: (k) => seen.push(`+${k}`),
    remove: (k) => seen.push(`-${k}`),
    listed: () => listed++,
  }, createLogger('error', 'json'));
  w.start();
  for (let i = 0; i < 100 && w.lists < 2; i++) await new Promise((r) => setTimeout(r, 5));
  w.stop();
  t.is(w.lists, 2);
  t.is(listed, 2);
  t.deepEqual(seen, ['+ns/a', '+ns/b', '+ns/b', '-ns/a']);
  t.deepEqual(calls, ['list /api/v1/pods?limit=100', 'watch /api/v1/pods', 'list /api/v1/pods?limit=100', 'watch /api/v1/pods']);
});
