import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { VALID_DIR } from '../../support/fixtures';
import { avs, tempFiles } from '../../support/cli';

const setVolume = (volume: unknown) =>
  JSON.stringify({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'd1' }, payload: { volume } } });

describe('avs validate', () => {
  const files = tempFiles({
    'ok.json': setVolume(40),
    'loud.json': setVolume(150),
    'foreign.json': JSON.stringify({ directive: { header: { namespace: 'Alexa.Foo', name: 'Bar', messageId: 'x' }, payload: {} } }),
    'context.json': JSON.stringify({ header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume: 3, muted: true } }),
    'event.json': JSON.stringify({ event: { header: { namespace: 'Speaker', name: 'MuteChanged', messageId: 'e' }, payload: { volume: 3, muted: true } } }),
    'exception.json': JSON.stringify({ header: { namespace: 'System', name: 'Exception', messageId: 'x' }, payload: { code: 'N/A' } }),
    'broken.json': '{"directive": ',
    'shapeless.json': '[1,2]',
    'noqueue.json': JSON.stringify({ directive: { header: { namespace: 'AudioPlayer', name: 'ClearQueue', messageId: 'c' }, payload: {} } }),
  });
  afterAll(files.cleanup);

  it('prints "FILE: ok Namespace.Name" for each valid message of the four kinds, exit 0', async () => {
    const r = await avs('validate', ...['ok.json', 'context.json', 'event.json', 'exception.json'].map(files.path));
    expect(r.out).toEqual([
      `${files.path('ok.json')}: ok Speaker.SetVolume`,
      `${files.path('context.json')}: ok Speaker.VolumeState`,
      `${files.path('event.json')}: ok Speaker.MuteChanged`,
      `${files.path('exception.json')}: ok System.Exception`,
    ]);
    expect(r.code).toBe(0);
  });

  it('prints the JSON path and reason of an invalid one, exit 1', async () => {
    const r = await avs('validate', files.path('ok.json'), files.path('loud.json'));
    expect(r.out[1]).toBe(`${files.path('loud.json')}: invalid Speaker.SetVolume: $.directive.payload.volume: expected integer 0..100, got 150`);
    expect(r.code).toBe(1);
  });

  it('prints "unsupported" for an unknown interface, exit 1', async () => {
    const r = await avs('validate', files.path('foreign.json'));
    expect(r.out).toEqual([`${files.path('foreign.json')}: unsupported Alexa.Foo.Bar`]);
    expect(r.code).toBe(1);
  });

  it('says what a shapeless document is not', async () => {
    const r = await avs('validate', files.path('shapeless.json'));
    expect(r.out[0]).toMatch(/shapeless\.json: invalid \(unknown\): \$: not an AVS message/);
    expect(r.code).toBe(1);
  });

  it('exits 2 on bad JSON or an unreadable file, and still checks the others', async () => {
    const r = await avs('validate', files.path('broken.json'), files.path('missing.json'), files.path('ok.json'));
    expect(r.out[0]).toMatch(/broken\.json: not JSON: /);
    expect(r.out[1]).toMatch(/missing\.json: cannot read: ENOENT/);
    expect(r.out[2]).toMatch(/ok\.json: ok Speaker\.SetVolume/);
    expect(r.code).toBe(2);
  });

  it('applies the SDK defaults with --lenient', async () => {
    expect((await avs('validate', files.path('noqueue.json'))).code).toBe(1);
    const r = await avs('validate', '--lenient', files.path('noqueue.json'));
    expect(r.out[0]).toMatch(/: ok AudioPlayer\.ClearQueue$/);
    expect(r.code).toBe(0);
  });

  it('exits 2 on bad usage, 0 on --help', async () => {
    const none = await avs('validate');
    expect(none.code).toBe(2);
    expect(none.err).toEqual(['avs validate: no FILE given (see avs validate --help)']);
    const unknown = await avs('validate', '--strict', files.path('ok.json'));
    expect(unknown.code).toBe(2);
    expect(unknown.err.join('\n')).toMatch(/--strict/);
    const help = await avs('validate', '--help');
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/^usage: avs validate/);
  });

  it('finds every bundled example valid', async () => {
    const all = readdirSync(VALID_DIR).map((f) => join(VALID_DIR, f));
    const r = await avs('validate', ...all);
    expect(r.out.filter((l) => !/: ok /.test(l))).toEqual([]);
    expect(r.code).toBe(0);
  });
});
