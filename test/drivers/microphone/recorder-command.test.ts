import { type RecorderSettings, recorderCommand } from '../../../drivers/microphone/recorder-command';

const base: RecorderSettings = {
  program: 'sox',
  sampleRate: 16_000,
  channels: 1,
  endOnSilence: false,
  threshold: 0.5,
  silence: 1,
  env: {},
};

describe('recorderCommand', () => {
  it('has sox capture the default device as 16 kHz mono raw s16le on stdout', () => {
    expect(recorderCommand(base)).toMatchObject({
      cmd: 'sox',
      args: ['--default-device', '--no-show-progress', '--rate', '16000', '--channels', '1', '--encoding', 'signed-integer', '--bits', '16', '--type', 'raw', '-'],
    });
  });

  it('adds the gain effect, then the silence effect, after the output', () => {
    const { args } = recorderCommand({ ...base, gain: -3.5, endOnSilence: true, threshold: 2, silence: 1.5 });
    expect(args.slice(args.indexOf('-') + 1)).toEqual(['gain', '-3.5', 'silence', '1', '0.1', '2%', '1', '1.5', '2%']);
  });

  it('gives sox and rec the device as AUDIODEV, over the environment', () => {
    for (const program of ['sox', 'rec'] as const) {
      const { spawnOptions } = recorderCommand({ ...base, program, device: 'hw:1,0', env: { AUDIODRIVER: 'alsa' } });
      expect(spawnOptions?.env).toMatchObject({ AUDIODEV: 'hw:1,0', AUDIODRIVER: 'alsa', PATH: process.env.PATH });
    }
  });

  it('runs rec with the same output and effects', () => {
    expect(recorderCommand({ ...base, program: 'rec', gain: 6 })).toMatchObject({
      cmd: 'rec',
      args: ['-q', '-r', '16000', '-c', '1', '--encoding', 'signed-integer', '--bits', '16', '--type', 'raw', '-', 'gain', '6'],
    });
  });

  it('gives arecord the device with -D', () => {
    expect(recorderCommand({ ...base, program: 'arecord', device: 'plughw:1' })).toMatchObject({
      cmd: 'arecord',
      args: ['-D', 'plughw:1', '-q', '-r', '16000', '-c', '1', '-t', 'raw', '-f', 'S16_LE', '-'],
    });
  });
});
