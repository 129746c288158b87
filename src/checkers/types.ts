// The checker interface: invariant checks that live apart from the model and run after every
// step (TigerBeetle's src/testing/*_checker.zig). A checker reads the model's state through a
// ModelView, never changes it, and records what it finds as Violations: the step, the rule,
// the values it saw. Enabled by `skmem run --check`, in every test and in the fuzzer.
import type { NetContext, Sock } from '../model/sock.ts';
import type { Path } from '../paths/path.ts';
import type { KernelProfile } from '../profiles/types.ts';
import type { Step } from '../scenario/schema.ts';

/** What a checker may read of a model run. */
export interface ModelView {
  readonly profile: KernelProfile;
  readonly net: NetContext;
  /** The sender (the only socket whose memory the model accounts). */
  readonly sk: Sock;
  readonly path: Path;
  /** inet_csk_destroy_sock() / inet_sock_destruct() have run for the sender. */
  readonly destroyed: boolean;
}

export interface Violation {
  /** Index of the step after which (or during which) the rule was broken; -1 = connection setup. */
  step: number;
  /** Short stable id, e.g. "destruct.fwd_alloc", "identity.wmem_queued". */
  rule: string;
  /** The kernel check it mirrors (WARN_ON text and function), or the identity as a formula. */
  check: string;
  /** True for the kernel's own WARNs; false for the model's accounting identities. */
  kernel: boolean;
  message: string;
  /** The numbers the rule compared. */
  values: Record<string, number>;
  /** Model ids of the skbs involved (for the accounting trail). */
  skbs: number[];
}

export interface Checker {
  readonly name: string;
  /** Called once, after connection setup, before the first step. */
  attach?(view: ModelView): void;
  /** Called after every step (step = null and index -1 after setup). */
  afterStep(view: ModelView, index: number, step: Step | null): void;
  /** What this checker found so far. */
  readonly violations: readonly Violation[];
}
