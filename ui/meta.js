// The words podium's domain defines, as GET /api/meta serves them: the
// agents' and sessions' statuses, the events' categories, the system log's
// levels. The UI keeps no copy of its own: the page learns them
// (learnMeta) before it draws anything.
//
// A status is named as the domain names it (AgentStatus.WORKING). Naming one
// the domain does not have throws, instead of comparing with `undefined`
// and silently never matching.

const agentStatuses = {};
const sessionStatuses = {};

export const AgentStatus = strict(agentStatuses, "agent status");
export const SessionStatus = strict(sessionStatuses, "session status");
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
