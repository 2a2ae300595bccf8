import { contentIdOf, IsoDateTime, parseIsoDateTime, StreamUrl } from '../../../machines/envelope/primitives';

describe('ISO 8601 times (§2.4)', () => {
  it.each([
    ['2024-03-01T18:30:00Z', Date.UTC(2024, 2, 1, 18, 30)],
    ['2024-03-01T18:30:00+0000', Date.UTC(2024, 2, 1, 18, 30)],
    ['2018-12-31T17:20:14+0000', Date.UTC(2018, 11, 31, 17, 20, 14)],
    ['2024-03-01T19:30:00+01:00', Date.UTC(2024, 2, 1, 18, 30)],
    ['2024-03-01T13:00:00-0530', Date.UTC(2024, 2, 1, 18, 30)],
    ['2024-03-01T18:30:00.250Z', Date.UTC(2024, 2, 1, 18, 30, 0, 250)],
    ['2024-03-01T18:30Z', Date.UTC(2024, 2, 1, 18, 30)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ])('reads %s with Z, +hh:mm or +hhmm', (s, ms) => {
    expect(parseIsoDateTime(s)).toBe(ms);
    expect(IsoDateTime.is(s)).toBe(true);
  });

  it.each(['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-03-01T24:00:00Z', '2024-03-01 18:30:00Z', '2024-03-01T18:30:00', '2024-03-01', 'now', '2024-03-01T18:30:00+2500'])(
    'refuses %s',
    (s) => {
      expect(parseIsoDateTime(s)).toBeUndefined();
      expect(IsoDateTime.is(s)).toBe(false);
    },
  );
});

describe('URLs', () => {
  it('takes cid: and http(s) stream URLs, nothing else (§8.3)', () => {
    expect(StreamUrl.is('cid:abc')).toBe(true);
    expect(StreamUrl.is('https://cdn.example.com/a.mp3')).toBe(true);
    expect(StreamUrl.is('http://radio.example.net/live.pls')).toBe(true);
    expect(StreamUrl.is('ftp://example.com/a.mp3')).toBe(false);
    expect(StreamUrl.is('cid:')).toBe(false);
    expect(StreamUrl.is('/relative/path')).toBe(false);
  });

  it('reads the content id of a cid: URL, percent-decoded (RFC 2392)', () => {
    expect(contentIdOf('cid:DeviceTTSRendererV4_abc_123')).toBe('DeviceTTSRendererV4_abc_123');
    expect(contentIdOf('cid:a%40b')).toBe('a@b');
    expect(contentIdOf('cid:bad%zz')).toBe('bad%zz');
  });
});
