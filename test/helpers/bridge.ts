/**
 * Bridge records as the tests write them: a runner (with or without its lease, as a team store
 * shares it) and a finished request's result. Defaults are fixed values; each test overrides
 * what it is about.
 */
import { REQUEST_TYPE, RUNNER_TYPE, type Ask, type RequestResult, type RequestSpec, type Runner, type RunnerRegistration } from "../../src/bridge/request.js"

/** A runner record, its lease far in the future unless given. */
export function runnerRecord(over: Partial<Runner> & { id: string }): Runner {
  return {
    $type: RUNNER_TYPE,
    host: "ci-1",
    pid: 42,
    opencode_version: "1.0.0",
    capability_digest: `sha256:${"0".repeat(64)}`,
    project_roots: [],
    labels: ["os:linux"],
    started_at: "2026-05-28T09:59:00.000Z",
    lease_until: "2999-01-01T00:00:00.000Z",
    ...over,
  }
}

/** A runner's registration as a team store holds it: the record without its lease. */
export function runnerRegistration(over: Partial<Runner> & { id: string }): RunnerRegistration {
  const { lease_until: _lease, ...registration } = runnerRecord(over)
  return registration
}

/** The result of a request that succeeded with no stage records. */
export function succeededResult(key: string, request: RequestSpec, over: Partial<RequestResult> = {}): RequestResult {
  return {
    $type: REQUEST_TYPE,
    kind: "result",
    key,
    request,
    state: "succeeded",
    sessions: ["ses_1"],
    terminal_action: null,
    stage_records: [],
    tokens: { input: 1, output: 2, reasoning: 0, cache_read: 0, cache_write: 0 },
    cost: 0,
    ended_at: "2026-05-28T10:05:00.000Z",
    ...over,
  }
}

/** What a bridge records when the agent asks (OpenCode's question tool): the release-note tone question, asked now. */
export function toneQuestion(key: string, id: string, session: string): Ask {
  return {
    $type: REQUEST_TYPE,
    kind: "ask",
    key,
    id,
    ask: "question",
    session,
    questions: [{ question: "Which tone should the release note take?", header: "Tone", options: [{ label: "friendly" }, { label: "formal" }], custom: true }],
    asked_at: new Date().toISOString(),
  }
}
