"""judge: the spiral's claims, from the measurements alone.

"Solves" is a success rate: a network is retrained from scratch on `replicates` fresh seeds (new data, new initial
weights) for the full budget, and a replicate succeeds when its final test loss is at most the target. The success
rule: a network *solves* the dataset when that rate is significantly above `success_null` (0.8 by default: a learner
pressing play can expect it to work four times in five), by an exact binomial test; it *does not* when the rate is
significantly below. The search that picked
the networks never evaluated the test points (it selects on training loss), and the replicate seeds are not the
search's seeds.
"""

from __future__ import annotations

import math

import numpy as np

from replab import stats
from replab.claims import Claim, EvidenceBase, check, decide, finding
from replab.experiments.spiral.candidates import seed_choice
from replab.experiments.spiral.config import N_POINTS, TRAIN_RATIO, Config, feature_label, has_sine, layers_text
from replab.experiments.spiral.measure import (
    RIVAL_ROLE,
    SEED_ROLE,
    Measurements,
    Smaller,
    smaller_evidence,
    smallest_role,
)

TEST_POINTS = N_POINTS - math.floor(N_POINTS * TRAIN_RATIO)
"""Test points per replicate (the Playground's 500 points, half of them for training)."""
SUCCESS_EFFECT = ("success rate on fresh seeds: the fraction of replicates whose final test loss (after the full "
                  "budget) is ≤ the target; tested against the null rate")


def judge(config: Config, m: Measurements) -> list[Claim]:
    """The seed's network, the smallest solution, the search's coverage and the sine features' effect."""
    return decide([seed_solves(config, m), smallest_solution(config, m), search_covers_smaller(config, m),
                   sine_features_shrink(config, m)])


def replicate_base(config: Config, m: Measurements) -> EvidenceBase:
    return EvidenceBase(datasets=(config.dataset,), seeds=m.replicates, examples=TEST_POINTS, quick=config.quick)


def solves_test(config: Config, m: Measurements, finalist: int, label: str) -> stats.Test:
    return stats.proportion(m.successes(finalist), m.replicates, label, null=config.success_null)


def replicate_text(config: Config, m: Measurements, finalist: int) -> str:
    c = m.finalists[finalist]
    losses = m.final_test_loss[finalist]
    return (f"{feature_label(c.feature_set)} → {c.shape()}, {c.hyper.describe()} ({c.parameters} parameters): final "
            f"test loss ≤ {config.target_loss:g} after {config.epoch_budget} epochs in {m.successes(finalist)} of "
            f"{m.replicates} fresh seeds (median final test loss {float(np.median(losses)):.4f})")


def rate_words(config: Config) -> str:
    return f"its final test loss is ≤ {config.target_loss:g} in more than {config.success_null:.0%} of fresh seeds"


def pruning_text(config: Config, m: Measurements) -> str:
    n = len(m.pruning_sample)
    if n == 0:
        return "No pruned candidate was re-run without pruning."
    return (f"Pruning check: {n} randomly drawn pruned candidates re-run without pruning for the full budget on the "
            f"search seeds; {int(m.pruning_solved.sum())} of {n} would have solved by the search's rule.")


def seed_solves(config: Config, m: Measurements) -> Claim:
    chosen = seed_choice(config)
    index = m.finalist(SEED_ROLE)
    return finding(
        "seed-2x8-solves",
        f"The seed's {layers_text(chosen.hidden)} network ({chosen.hyper.activation}, X1 and X2, "
        f"{chosen.hyper.regularization} {chosen.hyper.regularization_rate:g}) solves the {config.dataset}: "
        f"{rate_words(config)}",
        effect=SUCCESS_EFFECT, direction="greater",
        tests=[solves_test(config, m, index, f"seed's {layers_text(chosen.hidden)}")],
        evidence=replicate_text(config, m, index) + ".", base=replicate_base(config, m))


def smallest_solution(config: Config, m: Measurements) -> Claim:
    n_seed = seed_choice(config).parameters
    hidden = layers_text(config.seed_hidden)
    winner = m.smallest_solver(config.feature_sets)
    statement = (f"A network with fewer parameters than the seed's {hidden} ({n_seed}) solves the {config.dataset}: "
                 f"the smallest network the search found, retrained on fresh seeds, reaches a final test loss ≤ "
                 f"{config.target_loss:g} in more than {config.success_null:.0%} of them")
    smaller = smaller_evidence(config, m, config.feature_sets,
                               math.inf if winner is None else m.candidates[winner].parameters)
    if winner is None:
        test = stats.unavailable("smallest found", "no candidate's training loss reached the target in the search")
        evidence = f"No candidate solved in the search. {smaller_text(smaller)}"
    else:
        n = m.candidates[winner].parameters
        finalist = m.finalists.index(m.candidates[winner])
        if n >= n_seed:
            test = stats.unavailable("smallest found", f"the search's smallest solver has {n} parameters, not fewer "
                                                       f"than the seed's {n_seed}")
        else:
            test = solves_test(config, m, finalist, f"smallest found ({n} parameters)")
        evidence = (f"Smallest found ({n_seed / n:.1f}× fewer than {hidden}'s {n_seed}): "
                    f"{replicate_text(config, m, finalist)}; in the search {config.seeds_required}-th best seed's best "
                    f"training loss {m.score(winner):.4f}. Smaller, in the search space: {smaller_text(smaller)}")
    missed = pruning_missed(config, m)
    return finding("smallest-solution", statement, effect=SUCCESS_EFFECT, direction="greater", tests=[test],
                   evidence=evidence + " " + pruning_text(config, m) + (" Caveat: " + " ".join(missed) if missed else ""),
                   base=replicate_base(config, m))


def search_covers_smaller(config: Config, m: Measurements) -> Claim:
    winner = m.smallest_solver(config.feature_sets)
    limit = math.inf if winner is None else m.candidates[winner].parameters
    smaller = smaller_evidence(config, m, config.feature_sets, limit)
    bound = "the search space" if winner is None else f"fewer than {limit} parameters"
    return check(
        "search-covers-smaller",
        f"Every (feature set, architecture) pair with {bound} was trained with the full hyperparameter grid and "
        f"none reached the target training loss (the search visits pairs in increasing parameter count and skips "
        f"only larger ones)",
        passed=smaller.covered and smaller.solved == 0, evidence=smaller_text(smaller),
        base=EvidenceBase(datasets=(config.dataset,), seeds=config.n_seeds, quick=config.quick))


def sine_features_shrink(config: Config, m: Measurements) -> Claim:
    statement = ("Sine features shrink the smallest solution: the smallest network with sine features solves the "
                 f"{config.dataset}, and the best X1, X2-only network with no more parameters does not (its success "
                 f"rate on fresh seeds is significantly above {config.success_null:g}, the rival's failure rate "
                 f"significantly above {1 - config.success_null:g})")
    effect = ("success rate of the smallest sine network and failure rate of the X1, X2 rival, each on fresh seeds "
              "(final test loss after the full budget against the target), against the null rate")
    sine_sets = [f for f in config.feature_sets if has_sine(f)]
    base = replicate_base(config, m)
    if "x+y" not in config.feature_sets or not sine_sets:
        reason = "the search lacks X1, X2 alone or a feature set with sine features"
        return finding("sine-features-shrink", statement, effect=effect, direction="greater",
                       tests=[stats.unavailable("sine vs X1, X2", reason)], evidence=reason, base=base)
    sine = m.smallest_solver(sine_sets)
    if sine is None:
        reason = "no candidate with sine features reached the target training loss in the search"
        return finding("sine-features-shrink", statement, effect=effect, direction="greater",
                       tests=[stats.unavailable("sine vs X1, X2", reason)], evidence=reason, base=base)
    sine_finalist = m.finalists.index(m.candidates[sine])
    size = m.candidates[sine].parameters
    tests = [solves_test(config, m, sine_finalist, f"smallest with sines solves ({size} parameters)")]
    evidence = f"Smallest with sines: {replicate_text(config, m, sine_finalist)}."
    rival = m.finalist(RIVAL_ROLE)
    if rival is None:
        tests.append(stats.unavailable("X1, X2 rival fails", f"no X1, X2 candidate of at most {size} parameters "
                                                             f"was trained"))
    else:
        failures = m.replicates - m.successes(rival)
        tests.append(stats.proportion(failures, m.replicates,
                                      f"X1, X2 rival fails ({m.finalists[rival].parameters} parameters)",
                                      null=1 - config.success_null))
        xy = m.finalist(smallest_role("x+y"))
        how = ("the smallest X1, X2 solver in the search" if xy == rival
               else f"the X1, X2 candidate of at most {size} parameters with the best training score "
                    f"(none of them solved in the search)")
        evidence += f" X1, X2 rival ({how}): {replicate_text(config, m, rival)}."
    return finding("sine-features-shrink", statement, effect=effect, direction="greater", tests=tests,
                   evidence=evidence, base=base)


def smaller_text(smaller: Smaller) -> str:
    best = "n/a" if smaller.best_score is None else f"{smaller.best_score:.3f}"
    return (f"{smaller.architectures} of {smaller.architectures_in_space} smaller (architecture, feature set) pairs "
            f"trained, each with the {'full' if smaller.complete_grid else 'INCOMPLETE'} hyperparameter grid "
            f"({smaller.candidates} candidates): {smaller.solved} solved, {smaller.failed} failed the full budget, "
            f"{smaller.pruned} pruned as hopeless; their best score (training loss) {best}.")


def pruning_missed(config: Config, m: Measurements) -> list[str]:
    """Finalists with fewer parameters than the search's smallest solver for their features, and how they fared.

    Such a network lies in (or beside) the search space but was pruned, missed the search's training-loss rule or
    was never reached; if it solves on fresh seeds, the search's answer for that feature set is only an upper bound.
    """
    missed = []
    for i, c in enumerate(m.finalists):
        if c.feature_set not in config.feature_sets:
            continue
        best = m.smallest_solver((c.feature_set,))
        n_best = None if best is None else m.candidates[best].parameters
        if n_best is None or c.parameters < n_best:
            missed.append(f"{m.label(i)} ({feature_label(c.feature_set)}, {c.parameters} parameters) has fewer "
                          f"parameters than the search's smallest solver for these features "
                          f"({n_best if n_best is not None else 'none'}) and succeeds in {m.successes(i)}/"
                          f"{m.replicates} fresh seeds; if it solves, the search pruned it or its training-loss rule "
                          f"missed it (hopeless thresholds {config.early_hopeless_loss:g}/{config.hopeless_loss:g}), "
                          f"and that answer is an upper bound.")
    return missed
