// A restart is sent with the stop timeout pidwarden decided on and logs, as `t`, whatever it came
// from. Podman's compat restart handler reads `t` into a uint that defaults to 0 and always hands
// it on (`Timeout: &query.DockerTimeout`), so the container's own StopTimeout is never used:
// without `t` the container is stopped with a timeout of 0, which its runtime turns into SIGKILL
// with no stop signal first (Podman 4.3.1 to 5.8:
// https://github.com/containers/podman/blob/main/pkg/api/handlers/compat/containers_restart.go,
// pkg/domain/infra/abi/containers.go ContainerRestart, libpod/oci_conmon_common.go StopContainer).
// Podman's inspect always carries Config.StopTimeout (10 unless --stop-timeout or containers.conf
// says otherwise; LibpodToContainerJSON in pkg/api/handlers/compat/containers.go), so pidwarden
// logged "stop timeout 10s (container)" for a restart that gave the main process no SIGTERM at
// all. Docker reads a missing `t` as the container's StopTimeout, else 10 s
// (https://github.com/moby/moby/blob/v20.10.24/api/server/router/container/container_routes.go,
// postContainersRestart): the same `t` sent explicitly changes nothing there.
import { expect, test } from 'bun:test';
import { stopPath } from '../../src/engine/containers.ts';
import { cleanupOn, FAKE_ID, fakeHostPerTest, RESTART_ONLY, type FakeHost, type FakeRun } from './helpers/fake-host.ts';

const RUN: FakeRun = { initPid: 6811, startedAt: '2026-11-21T06:20:45.000000000Z', processes: 6 };
const AFTER: FakeRun = { initPid: 7402, startedAt: '2026-11-21T07:31:02.000000000Z', processes: 1 };

const fakeHost = fakeHostPerTest();

function restartsCleanly(h: FakeHost): void {
  h.onRestart = () => {
    h.run(AFTER);
    h.state = { ...h.state, Pid: AFTER.initPid, StartedAt: AFTER.startedAt, FinishedAt: '2026-11-21T07:31:01.000000000Z' };
  };
}

test("a container's own StopTimeout (Podman's inspect always has one) is sent as t: Podman would read no t as 0 and SIGKILL at once", async () => {
  const h = fakeHost(RUN, { stopTimeout: 10 });
  restartsCleanly(h);
  const { code, lines } = await cleanupOn(h, RESTART_ONLY);
  expect(lines.find((l) => l['event'] === 'restart')).toMatchObject({ stopTimeout: 10, stopTimeoutFrom: 'container' });
  expect(h.restartQueries).toEqual(['t=10']);
  expect(code).toBe(0);
});

test("the engine's default, when the inspect has no StopTimeout (Docker's), is sent as t too", async () => {
  const h = fakeHost(RUN);
  restartsCleanly(h);
  await cleanupOn(h, RESTART_ONLY);
  expect(h.restartQueries).toEqual(['t=10']);
});

test('stopPath names the stop timeout whatever it came from', () => {
  expect(stopPath(FAKE_ID, 'restart', { seconds: 30, from: 'container' })).toBe(`/containers/${FAKE_ID}/restart?t=30`);
  expect(stopPath(FAKE_ID, 'restart', { seconds: 10, from: 'engine default' })).toBe(`/containers/${FAKE_ID}/restart?t=10`);
  expect(stopPath(FAKE_ID, 'stop', { seconds: 0, from: 'flag' })).toBe(`/containers/${FAKE_ID}/stop?t=0`);
});
