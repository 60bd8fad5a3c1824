// The words podium's domain defines, as GET /api/meta serves them: the
// agents' and sessions' statuses, the events' categories, the system log's
// levels, the approvals' statuses, scopes and decisions. The UI keeps no
// copy of its own: the page learns them (learnMeta) before it draws anything.
//
// A status is named as the domain names it (AgentStatus.WORKING). Naming one
// the domain does not have throws, instead of comparing with `undefined`
// and silently never matching.

const agentStatuses = {};
const sessionStatuses = {};
const approvalStatuses = {};
const scopes = {};
const decisions = {};

export const AgentStatus = strict(agentStatuses, "agent status");
export const SessionStatus = strict(sessionStatuses, "session status");
export const ApprovalStatus = strict(approvalStatuses, "approval status");
/** How far a grant reaches (Scope.ONCE, Scope.AGENT, Scope.SESSION). */
export const Scope = strict(scopes, "approval scope");
/** What a person can decide on a request (Decision.ALLOW, Decision.DENY). */
export const Decision = strict(decisions, "decision");
/** The category of the requests' and decisions' events (a live binding: set by learnMeta). */
export let APPROVAL_CATEGORY = null;
/** The category of the system log's entries (set by learnMeta). */
export let SYSTEM_CATEGORY = null;
/** The AI summaries' category, and the type of their stream (set by learnMeta). */
export let SUMMARY_CATEGORY = null;
export let SUMMARIES_STREAM = null;
/** Every event category, in the order the domain lists them. */
export const CATEGORIES = [];
/** The system log's levels, least severe first. */
export const LEVELS = [];

/** Take the vocabulary from GET /api/meta's answer. */
export function learnMeta(meta) {
  Object.assign(agentStatuses, meta.statuses.agent);
  Object.assign(sessionStatuses, meta.statuses.session);
  CATEGORIES.splice(0, CATEGORIES.length, ...meta.categories);
  LEVELS.splice(0, LEVELS.length, ...meta.levels);
  Object.assign(approvalStatuses, meta.approvals.statuses);
  Object.assign(scopes, meta.approvals.scopes);
  Object.assign(decisions, meta.approvals.decisions);
  APPROVAL_CATEGORY = meta.approvals.category;
  SYSTEM_CATEGORY = meta.system_log.category;
  SUMMARY_CATEGORY = meta.summaries.category;
  SUMMARIES_STREAM = meta.summaries.stream_type;
}

function strict(values, what) {
  return new Proxy(values, {
    get(target, name) {
      if (typeof name === "string" && !Object.hasOwn(target, name)) {
        throw new Error(`podium has no ${what} ${name} (or GET /api/meta was not learnt yet)`);
      }
      return target[name];
    },
  });
}
