"""measure: the search (selecting on training loss), then the finalists replicated on fresh seeds.

Finalists: the seed's choice; per feature set, the best-scoring solver at each of the `finalists_per_set` smallest
parameter counts that solved in the search (the first is that feature set's smallest solver; together they are the
points of the success-rate-against-parameters curve); and the "rival" — the X1, X2-only candidate the sine-features
claim is compared against (the smallest X1, X2 solver if it is no larger than the smallest sine solver, else the
X1, X2 candidate of at most that size with the best training score). Each is retrained from scratch on
`replicates` fresh seeds for the full budget; a replicate succeeds when its final test loss (after `epoch_budget`
epochs) is at most the target. Then a random sample of the pruned candidates is re-run without pruning on the
search seeds, to count how many the pruning wrongly dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from replab import stats
from replab.experiments import base
from replab.experiments.base import Progress, no_progress
from replab.experiments.spiral.candidates import (
    Candidate,
    hyper_grid,
    make_seed_data,
    playground_link,
    replicate_data,
    seed_choice,
    shapes_in_order,
)
from replab.experiments.spiral.config import Config, feature_keys, feature_label, has_sine, layers_text
from replab.experiments.spiral.search import STATUSES, pruning_check, replicate, score, search
from replab.nn.playground import playground_parameter_count

SEED_ROLE = "seed"
RIVAL_ROLE = "rival"


def smallest_role(feature_set: str) -> str:
    return f"smallest:{feature_set}"


def curve_role(feature_set: str) -> str:
    return f"curve:{feature_set}"


@dataclass(frozen=True)
class Measurements(base.Measurements):
    dataset: str
    target_loss: float
    seeds_required: int
    feature_sets: tuple[str, ...]
    # the search: one row per candidate trained (scores are training losses)
    candidates: tuple[Candidate, ...]
    status: tuple[str, ...]                 # solved / failed / pruned
    epochs_trained: np.ndarray              # (C,)
    best_train_loss: np.ndarray             # (C, n_seeds) lowest training loss seen per search seed
    reached_at: np.ndarray                  # (C, n_seeds) first epoch with training loss ≤ target, NaN if never
    skipped: np.ndarray                     # (len(feature_sets),) architectures skipped as larger than a solution
    prune_log: np.ndarray                   # (P, 4): after epoch, pruned, kept, lowest pruned score
    waves: int
    # the replication on fresh seeds
    finalists: tuple[Candidate, ...]
    roles: tuple[str, ...]                  # role of each entry of role_finalist
    role_finalist: np.ndarray               # (roles,) finalist index
    replicate_seeds: np.ndarray             # (replicates,)
    epochs: np.ndarray                      # (R,) record epochs of the replication
    replicate_train_loss: np.ndarray        # (F, R, replicates)
    replicate_test_loss: np.ndarray         # (F, R, replicates)
    grid_output: np.ndarray                 # (F, G, G) first replicate's output over the plane
    shown_train_points: np.ndarray          # first replicate's data, for the decision-region figure
    shown_train_labels: np.ndarray
    shown_test_points: np.ndarray
    shown_test_labels: np.ndarray
    links: tuple[str, ...] = ()              # (F,) the finalist in the real TensorFlow Playground
    success_null: float = 0.8
    # the pruning check: pruned candidates re-run without pruning on the search seeds
    pruning_sample: np.ndarray = field(default_factory=lambda: np.zeros(0, int))         # (S,) candidate indices
    pruning_best_loss: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))      # (S, n_seeds) best training loss over the full budget
    pruning_solved: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))        # (S,) would have solved by the search's rule
    replicate_record_times: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), metadata=base.WHEN_MEASURED)  # (F, R) wall times

    # --- derived views -----------------------------------------------------------------------------------

    @property
    def final_test_loss(self) -> np.ndarray:
        """(F, replicates) test loss after the full budget."""
        return self.replicate_test_loss[:, -1, :]

    def successes(self, finalist: int) -> int:
        return int(np.sum(self.final_test_loss[finalist] <= self.target_loss))

    @property
    def replicates(self) -> int:
        return int(self.replicate_test_loss.shape[2])

    def finalist(self, role: str) -> int | None:
        return int(self.role_finalist[self.roles.index(role)]) if role in self.roles else None

    def score(self, index: int) -> float:
        return score(self.best_train_loss[index], self.seeds_required)

    def smallest_solver(self, feature_sets) -> int | None:
        """Index of the solved candidate with the fewest parameters (ties: best score) among these feature sets."""
        solvers = [i for i, c in enumerate(self.candidates) if self.status[i] == "solved" and c.feature_set in feature_sets]
        return min(solvers, key=lambda i: (self.candidates[i].parameters, self.score(i)), default=None)

    def label(self, finalist: int) -> str:
        names = []
        for role, f in zip(self.roles, self.role_finalist):
            if f != finalist:
                continue
            if role == SEED_ROLE:
                names.append("seed's " + layers_text(self.finalists[finalist].hidden))
            elif role == RIVAL_ROLE:
                names.append("X1, X2 rival")
            elif role.startswith("curve:"):
                names.append(f"solver ({feature_label(role.split(':', 1)[1])}, "
                             f"{self.finalists[finalist].parameters} parameters)")
            else:
                names.append(f"smallest ({feature_label(role.split(':', 1)[1])})")
        return " = ".join(dict.fromkeys(names))

    def solves(self, finalist: int) -> str:
        """'solves', 'does not solve' or 'undecided': the success rule for one finalist (its own binomial test at
        95%, before the run's Benjamini–Hochberg, which applies to the claims)."""
        test = stats.proportion(self.successes(finalist), self.replicates, "rate", null=self.success_null)
        if test.p_greater < stats.ALPHA:
            return "solves"
        return "does not solve" if test.p_less < stats.ALPHA else "undecided"

    def curve(self, feature_set: str) -> list[int]:
        """Finalists with these features, by parameter count: the success-rate curve's points."""
        return sorted((i for i, c in enumerate(self.finalists) if c.feature_set == feature_set),
                      key=lambda i: (self.finalists[i].parameters, i))

    def to_metrics(self) -> dict:
        status_counts = {s: sum(x == s for x in self.status) for s in STATUSES}
        smallest = {}
        for scope, sets in (("any", self.feature_sets), *((f, (f,)) for f in self.feature_sets)):
            index = self.smallest_solver(sets)
            smallest[scope] = None if index is None else {**describe(self.candidates[index]),
                                                          "score": self.score(index)}
        replication = {}
        for i, candidate in enumerate(self.finalists):
            k = self.successes(i)
            low, high = stats.wilson(k, self.replicates)
            replication[self.label(i)] = {**describe(candidate), "successes": k, "replicates": self.replicates,
                                          "success_rate": k / self.replicates, "wilson_95": [low, high],
                                          "solves": self.solves(i),
                                          "playground_link": self.links[i] if self.links else None,
                                          "final_test_loss": self.final_test_loss[i].tolist(),
                                          "final_train_loss": self.replicate_train_loss[i, -1].tolist()}
        return base.to_jsonable({
            "dataset": self.dataset, "target_loss": self.target_loss, "seeds_required": self.seeds_required,
            "candidates_trained": len(self.candidates), "waves": self.waves, "status_counts": status_counts,
            "skipped_architectures": dict(zip(self.feature_sets, self.skipped.tolist())),
            "prune_log": [{"epoch": int(e), "pruned": int(p), "kept": int(k), "lowest_pruned_score": float(s)}
                          for e, p, k, s in self.prune_log],
            "seed_parameters": self.finalists[self.finalist(SEED_ROLE)].parameters,
            "smallest": smallest, "replicate_seeds": self.replicate_seeds, "replication": replication,
            "success_rule": f"success rate significantly above {self.success_null:g} (exact binomial, 95%)",
            "pruning_check": {"rerun": len(self.pruning_sample), "would_have_solved": int(self.pruning_solved.sum()),
                              "candidates": [describe(self.candidates[i]) for i in self.pruning_sample]}})


def describe(c: Candidate) -> dict:
    return {"features": c.feature_set, "hidden": list(c.hidden), "activation": c.hyper.activation,
            "learning_rate": c.hyper.learning_rate, "regularization": c.hyper.regularization,
            "regularization_rate": c.hyper.regularization_rate, "batch_size": c.hyper.batch_size,
            "parameters": c.parameters}


# --- what the search says about smaller networks (pure, for judge and present) --------------------------------


@dataclass(frozen=True)
class Smaller:
    """Every trained candidate of some feature sets with fewer parameters than a limit, summarised."""
    architectures: int
    architectures_in_space: int
    candidates: int
    solved: int
    failed: int
    pruned: int
    best_score: float | None
    complete_grid: bool

    @property
    def covered(self) -> bool:
        return self.architectures == self.architectures_in_space and self.complete_grid


def smaller_evidence(config: Config, m: Measurements, feature_sets, limit: float) -> Smaller:
    smaller = [i for i, c in enumerate(m.candidates) if c.feature_set in feature_sets and c.parameters < limit]
    shapes = {(m.candidates[i].feature_set, m.candidates[i].hidden) for i in smaller}
    in_space = {(f, arch) for f, arch in shapes_in_order(config) if f in feature_sets
                and playground_parameter_count(len(feature_keys(f)), arch) < limit}
    grid = len(hyper_grid(config))
    return Smaller(len(shapes), len(in_space), len(smaller), sum(m.status[i] == "solved" for i in smaller),
                   sum(m.status[i] == "failed" for i in smaller), sum(m.status[i] == "pruned" for i in smaller),
                   min((m.score(i) for i in smaller), default=None),
                   all(sum((m.candidates[i].feature_set, m.candidates[i].hidden) == shape for i in smaller) == grid
                       for shape in shapes))


# --- choosing the finalists (on training scores only) ----------------------------------------------------------


def choose_finalists(config: Config, candidates, status, best_train_loss) -> tuple[list[Candidate], list[str], list[int]]:
    """Finalists and their roles, from the search's training-loss results alone."""
    def sc(i):
        return score(best_train_loss[i], config.seeds_required)

    def smallest(sets):
        solvers = [i for i, c in enumerate(candidates) if status[i] == "solved" and c.feature_set in sets]
        return min(solvers, key=lambda i: (candidates[i].parameters, sc(i)), default=None)

    finalists: list[Candidate] = [seed_choice(config)]
    roles, index = [SEED_ROLE], [0]

    def add(role, candidate):
        if candidate not in finalists:
            finalists.append(candidate)
        roles.append(role)
        index.append(finalists.index(candidate))

    for f in config.feature_sets:
        if (i := smallest((f,))) is not None:
            add(smallest_role(f), candidates[i])
        solvers = [i for i, c in enumerate(candidates) if status[i] == "solved" and c.feature_set == f]
        sizes = sorted({candidates[i].parameters for i in solvers})[1:config.finalists_per_set]
        for size in sizes:
            best = min((i for i in solvers if candidates[i].parameters == size), key=sc)
            add(curve_role(f), candidates[best])
    if (rival := rival_index(config, candidates, status, sc, smallest)) is not None:
        add(RIVAL_ROLE, candidates[rival])
    return finalists, roles, index


def rival_index(config: Config, candidates, status, sc, smallest) -> int | None:
    """The X1, X2-only candidate the sine claim is tested against, or None when the claim cannot be asked."""
    sine_sets = [f for f in config.feature_sets if has_sine(f)]
    sine = smallest(sine_sets) if sine_sets and "x+y" in config.feature_sets else None
    if sine is None:
        return None
    size = candidates[sine].parameters
    xy = smallest(("x+y",))
    if xy is not None and candidates[xy].parameters <= size:
        return xy
    pool = [i for i, c in enumerate(candidates) if c.feature_set == "x+y" and c.parameters <= size]
    return min(pool, key=sc, default=None)


# --- measure ---------------------------------------------------------------------------------------------------


def measure(config: Config, progress: Progress = no_progress) -> Measurements:
    """Run the search (every architecture and setting as one masked population, pruned by successive halving), then
    replicate the finalists on fresh seeds; computes, never writes files.
    """
    found = search(config, make_seed_data(config), progress)
    order = sorted(found.outcomes)
    candidates = [found.candidates[i] for i in order]
    outcomes = [found.outcomes[i] for i in order]
    status = tuple(o.status for o in outcomes)
    best = np.array([o.best_loss for o in outcomes]).reshape(len(outcomes), config.n_seeds)
    finalists, roles, role_index = choose_finalists(config, candidates, status, best)
    fresh = replicate_data(config)
    replicated = replicate(config, finalists, fresh, lambda done, total, text: progress(
        done, total, f"replicating {len(finalists)} finalists on {config.replicates} fresh seeds: {text}"))
    sample, pruning_best, pruning_solved = pruning_check(
        config, candidates, status, make_seed_data(config),
        lambda done, total, text: progress(done, total, f"re-running pruned candidates unpruned: {text}"))
    progress(1, 1, "done")
    first = fresh[0]
    return Measurements(
        dataset=config.dataset, target_loss=config.target_loss, seeds_required=config.seeds_required,
        feature_sets=tuple(config.feature_sets), candidates=tuple(candidates), status=status,
        epochs_trained=np.array([o.epochs_trained for o in outcomes], int), best_train_loss=best,
        reached_at=np.array([o.reached_at for o in outcomes]).reshape(len(outcomes), config.n_seeds),
        skipped=np.array([found.skipped[f] for f in config.feature_sets], int),
        prune_log=np.array(found.prune_log, float).reshape(-1, 4), waves=found.waves,
        finalists=tuple(finalists), roles=tuple(roles), role_finalist=np.array(role_index, int),
        replicate_seeds=np.array([d.seed for d in fresh], np.int64), epochs=np.asarray(replicated.epochs, int),
        replicate_train_loss=replicated.train_loss, replicate_test_loss=replicated.test_loss,
        grid_output=replicated.grid_output, shown_train_points=first.points_train, shown_train_labels=first.y_train,
        shown_test_points=first.points_test, shown_test_labels=first.y_test,
        links=tuple(playground_link(config, c, int(first.seed)) for c in finalists),
        success_null=config.success_null, pruning_sample=np.array(sample, int),
        pruning_best_loss=np.asarray(pruning_best, float).reshape(len(sample), config.n_seeds),
        pruning_solved=np.asarray(pruning_solved, bool), replicate_record_times=replicated.record_times)
