// Feeds a running device's timeline to the inspector: its directives and events, and the
// connection's states (the connection actor lives outside the device's actor system, so the
// `inspect` config does not reach it). The machines' states come through `inspect` itself:
//   const inspector = await startInspector();
//   const device = createDevice({ ...config, inspect: inspector.inspect });
//   const feed = inspectDevice(inspector, device);
import type { Device } from '../device/device';
import type { Inspector } from './server';

/** Directives as AVS sends them (`{ directive: { header, payload } }`), events as the device sends them. */
export function inspectDevice(inspector: Inspector, device: Pick<Device, 'directives$' | 'events$' | 'actors'>): { unsubscribe(): void } {
  const directives = device.directives$.subscribe((d) => inspector.record({ kind: 'directive', name: `${d.namespace}.${d.name}`, json: { directive: d.directive } }));
  const events = device.events$.subscribe((e) => inspector.record({ kind: 'event', name: e.queued ? e.name : `${e.name} (not queued)`, json: e.message }));
  const unwatch = inspector.watch(device.actors.connection, 'connection');
  return {
    unsubscribe: () => {
      directives.unsubscribe();
      events.unsubscribe();
      unwatch();
    },
  };
}
