// How the index's evaluations decline to decide: FALL_BACK is their answer, GIVE_UP unwinds one.

/** FALL_BACK is IndexedEvaluator's answer when it will not decide a check: ask the plain walk. */
export const FALL_BACK = Symbol("fall back to the plain walk");

/** GIVE_UP unwinds an evaluation (a check or a set evaluation) that must not decide (not an Error: no stack to capture). */
export const GIVE_UP = Symbol("give up on the evaluation");

/**
 * orFallBack runs an evaluation on the index: FALL_BACK where it gave up, or where it recursed
 * deeper than the call stack allows (a schema's nesting is evaluated recursively; the plain walk
 * and the checks of the store path run on the heap). Other errors pass.
 */
export function orFallBack<T>(evaluate: () => T): T | typeof FALL_BACK {
  try {
    return evaluate();
  } catch (error) {
    if (error === GIVE_UP) return FALL_BACK;
    if (error instanceof RangeError && /call stack/i.test(error.message)) return FALL_BACK;
    throw error;
  }
}
