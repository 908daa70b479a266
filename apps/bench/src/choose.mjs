// The scenario, sub-case and contender a single-contender tool (profile.mjs, instructions.mjs) is asked for.
import { scenarios } from './scenarios/index.mjs';

/** The parseArgs options that name them: --scenario (default hello), --case, --contender (default ferry). */
export const choiceOptions = {
  scenario: { type: 'string', default: 'hello' },
  case: { type: 'string' },
  contender: { type: 'string', default: 'ferry' },
};

/** The scenario, sub-case and contender named on the command line, or a clear error. */
export function choose(values) {
  const scenario = scenarios[values.scenario];
  if (!scenario) throw new Error(`unknown scenario ${values.scenario}; known: ${Object.keys(scenarios).join(', ')}`);
  const contender = scenario.contenders.find((c) => c.id === values.contender);
  if (!contender) throw new Error(`unknown contender ${values.contender}; known: ${scenario.contenders.map((c) => c.id).join(', ')}`);
  // Without --case, the first sub-case the contender runs in (a sub-case may list its own contenders).
  const runsIn = (k) => !k.contenders || k.contenders.includes(contender.id);
  const kase = values.case ? scenario.cases.find((k) => k.id === values.case) : scenario.cases.find(runsIn);
  if (!kase) throw new Error(`unknown case ${values.case}; known: ${scenario.cases.map((k) => k.id).join(', ')}`);
  if (!runsIn(kase)) throw new Error(`${contender.id} does not run in case ${kase.id}; its contenders: ${kase.contenders.join(', ')}`);
  return { scenario, kase, contender };
}
