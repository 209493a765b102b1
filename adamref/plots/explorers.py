"""Every chapter's explorer in one table: what it draws and its controls.

A notebook's explorer cell is two lines and needs nothing run before it::

    from adamref.plots.explorers import explore
    explore("moments")

The built book draws the same explorers offline (``_ext/static_explorers.py``
calls ``render_static`` with each control's ``static`` values).
"""

from __future__ import annotations

from adamref.lab import adam_on_a_network as network_lab
from adamref.lab import bias_correction as bias_lab
from adamref.lab import from_sgd_to_adam as lineage_lab
from adamref.lab import generalization as general_lab
from adamref.lab import seed_regression as seed_lab
from adamref.lab import the_family as family_lab
from adamref.lab import worst_case_step as worst_lab
from adamref.plots import (adam_on_a_network, basis_and_conditioning, bias_correction,
                           frameworks, from_sgd_to_adam, generalization, low_precision,
                           memory_and_compute, moments, noisy_gradients, non_convergence,
                           per_parameter_steps, schedules_and_warmup, seed_regression,
                           sensitivity, the_family, worst_case_step)
from adamref.plots.widgets import (Control, Explorer, Spec, beta_control, choice,
                                   log_control, stepped, toggle)


def _specs() -> dict[str, Spec]:
    return {
        "adam_on_a_network": Spec(
            adam_on_a_network.draw_network_sweep, figsize=(11, 4.2), controls=dict(
                # a slider in the book's order: Momentum, Adam + L2, AdamW
                optimizer=Control("optimizer", "Adam + L2", network_lab.OPTIMIZERS,
                                  static=network_lab.OPTIMIZERS),
                schedule=choice("schedule", "constant", network_lab.SCHEDULES),
                curve=choice("curve", "validation error", tuple(adam_on_a_network.CURVES))),
            usage="Pick an optimizer and a schedule: which learning rates learn, which "
                  "crawl, which kill the network?"),
        "basis_and_conditioning": Spec(
            basis_and_conditioning.draw_bowl, figsize=(11, 4.4), controls=dict(
                angle=stepped("rotation φ (°)", 20.0, (0.0, 5.0, 10.0, 20.0, 30.0, 45.0),
                              static=(0.0, 20.0, 45.0)),
                condition_number=stepped("κ", 100.0, (10.0, 30.0, 100.0, 300.0, 1000.0),
                                         static=(100.0, 1000.0)),
                adam_lr=log_control("Adam's α", 0.2, 1e-3, 10.0, static=(0.05, 0.2, 1.0))),
            usage="Turn the bowl: GD's and heavy ball's curves stay put, Adam's move."),
        "bias_correction": Spec(
            bias_correction.draw_bias_correction, figsize=(11, 4), controls=dict(
                # the values of the lab's one cached sweep: a slider move only redraws
                beta2=stepped("β2", 0.9999, bias_lab.EXPLORER_BETA2S,
                              static=(0.99, 0.999, 0.9999)),
                lr=stepped("α (lr)", 1e-2, bias_lab.EXPLORER_LRS, static=(1e-3, 1e-2, 1e-1)),
                bias_correction=toggle("bias correction", True)),
            usage="Switch bias correction off at β2 = 0.9999 and watch the first steps."),
        "frameworks": Spec(
            frameworks.draw_epsilon_forms, figsize=(11, 4.2), controls=dict(
                eps=log_control("ε (PyTorch)", 1e-8, 1e-12, 1e-1, decades_only=True,
                                static=(1e-8, 1e-4)),
                eps_hat=log_control("ε̂ (Keras)", 1e-7, 1e-12, 1e-1, decades_only=True,
                                    static=(1e-7, 1e-3)),
                t=stepped("step t", 1, (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000),
                          static=(1, 10, 2000), starts_at_bound=True)),
            usage="Raise ε or ε̂ until the two forms part; move t to see where they meet again."),
        "from_sgd_to_adam": Spec(
            from_sgd_to_adam.draw_lineage, figsize=(11, 4.2), controls=dict(
                problem=choice("problem", "quadratic", ("quadratic", "rosenbrock")),
                # the values of the lab's cached sweeps: moving them only redraws
                lr=stepped("α (RMSprop, Adam)", 0.1, lineage_lab.EXPLORER_LRS,
                           static=(0.01, 0.1, 0.5)),
                sgd_lr=stepped("α (SGD, Momentum)", 0.01, lineage_lab.EXPLORER_SGD_LRS),
                beta1=stepped("β1", 0.9, lineage_lab.EXPLORER_BETA1S, static=(0.0, 0.9)),
                beta2=beta_control("β2", 0.999),
                noise=stepped("noise σ", 0.0, (0.0, 0.1, 0.2, 0.5, 1.0, 2.0), static=(0.0, 0.5),
                              starts_at_bound=True)),
            usage="Add noise, or set β1 = 0, and compare the four paths."),
        "generalization": Spec(
            generalization.draw_overfitting, figsize=(12, 4.2), controls=dict(
                lr=stepped("α (lr)", 1.0, general_lab.EXPLORER_LRS, static=(0.01, 0.1, 1.0)),
                weight_decay=stepped("λ (weight decay)", 0.3, general_lab.EXPLORER_WEIGHT_DECAYS,
                                     static=(0.01, 0.3, 1.0)),
                decoupled=toggle("decoupled (AdamW)", True)),
            usage="Switch decoupling off at the same α and λ, then lower α: which fit "
                  "follows the noise?"),
        "low_precision": Spec(
            low_precision.draw_steps_by_precision, figsize=(8, 4.4), controls=dict(
                eps=log_control("ε", 1e-8, 1e-12, 1e-1, decades_only=True, static=(1e-8, 1e-4)),
                loss_scale=stepped("loss scale S", 4096.0,
                                   (1.0, 16.0, 256.0, 4096.0, 65536.0, 2.0**20),
                                   static=(4096.0, 65536.0), text=lambda s: f"2^{int(s).bit_length() - 1}"),
                t=stepped("step t", 1000, (1, 10, 100, 1000, 3000), static=(10, 1000)),
                beta2=beta_control("β2", 0.999, static=(0.99, 0.999))),
            usage="Raise ε to 1e-4, which fp16 can store, or shrink t: where do fp16 and bf16 "
                  "part from fp32?"),
        "memory_and_compute": Spec(
            memory_and_compute.draw_memory, figsize=(12, 4.2), controls=dict(
                billions=stepped("parameters (billions)", 7.0,
                                 (0.1, 0.3, 1.0, 3.0, 7.0, 13.0, 30.0, 70.0, 175.0, 405.0, 1000.0),
                                 static=(1.0, 7.0, 70.0, 405.0)),
                precision=choice("precision", "mixed", ("fp32", "mixed")),
                device_gb=stepped("device GB", 80.0,
                                  (8.0, 16.0, 24.0, 40.0, 48.0, 80.0, 96.0, 141.0, 192.0),
                                  static=(24.0, 80.0))),
            usage="Pick a model size and a device: does Adam's state still fit?"),
        "moments": Spec(
            moments.draw_moments, figsize=(9, 6.6), controls=dict(
                beta1=beta_control("β1", 0.9, static=(0.5, 0.9, 0.99)),
                beta2=beta_control("β2", 0.999, static=(0.9, 0.99, 0.999)),
                noise=stepped("noise σ", 1.0, (0.0, 0.25, 0.5, 1.0, 2.0, 4.0),
                              static=(0.0, 1.0, 2.0))),
            usage="Try β2 = 0.9 for a quick but noisy v̂, or noise 0 for the lag alone."),
        "noisy_gradients": Spec(
            noisy_gradients.draw_noise, figsize=(11, 4), controls=dict(
                noise=stepped("noise σ", 1.0, (0.0, 0.3, 1.0, 3.0, 10.0),
                              static=(0.0, 1.0, 3.0, 10.0)),
                lr=log_control("α (lr)", 1e-2, 1e-4, 1.0, static=(1e-3, 1e-2, 1e-1))),
            usage="Raise the noise at a fixed α: which optimizer's final loss grows first?"),
        "non_convergence": Spec(
            non_convergence.draw_online, figsize=(11, 4.2), controls=dict(
                C=stepped("C (β2 = 1/(1+C²))", 3.0, (2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0),
                          static=(2.5, 3.0, 10.0)),
                lr=log_control("α (lr)", 0.1, 1e-3, 10.0, static=(0.01, 0.1, 1.0)),
                # β1 = 0 is the theorem's: no momentum, a natural end of the slider
                beta1=stepped("β1", 0.0, (0.0, 0.3, 0.5, 0.7, 0.9, 0.99), static=(0.0, 0.9),
                              starts_at_bound=True)),
            usage="Raise C: Adam still drifts to the worst point, AMSGrad does not; "
                  "β1 = 0.9 removes the failure."),
        "per_parameter_steps": Spec(
            per_parameter_steps.draw_per_coordinate_progress, figsize=(11, 4.2), controls=dict(
                lr=log_control("α (lr)", 0.01, 1e-4, 0.2, static=(1e-3, 1e-2, 1e-1)),
                eps=log_control("ε", 1e-8, 1e-12, 1e-1, decades_only=True,
                                static=(1e-8, 1e-3)),
                beta1=beta_control("β1", 0.9),
                beta2=beta_control("β2", 0.999, static=(0.9, 0.999)),
                steps=stepped("steps", 400, (50, 100, 200, 400, 1000, 2000))),
            usage="Raise ε towards the gradients' scale and watch Adam turn into SGD, "
                  "or try β2 = 0.9."),
        "schedules_and_warmup": Spec(
            schedules_and_warmup.draw_schedules_and_warmup, figsize=(11, 4.2), controls=dict(
                beta2=stepped("β2", 0.999, (0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9995, 0.9999),
                              static=(0.99, 0.999)),
                warmup_fraction=stepped("warmup (share of the run)", 0.1,
                                        (0.01, 0.03, 0.1, 0.2, 0.3, 0.5), static=(0.1, 0.3)),
                total_steps=stepped("steps in the run", 1000, (100, 300, 1000, 3000, 10000),
                                    static=(300, 1000, 3000))),
            usage="Lower β2: RAdam's ζ_t and the untuned warmup both shorten, in step."),
        "seed_regression": Spec(
            seed_regression.draw_seed_regression, figsize=(11, 4.2), controls=dict(
                lr=log_control("α (lr)", seed_lab.LEARNING_RATE, 1e-3, 1.0,
                               static=(1e-3, 1e-2, 1e-1)),
                epochs=stepped("epochs", seed_lab.EPOCHS, (10, 25, 50, 100, 200, 500, 1000),
                               static=(100, 1000)),
                batch_size=stepped("batch size", 32, (1, 4, 8, 16, 32, 64, 100),
                                   static=(8, 32, 100)),
                noise=stepped("noise σ", seed_lab.NOISE, (0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0))),
            usage="Give it 1000 epochs, shrink the batch or raise α: when does the weight "
                  "settle, and how much does it jitter?"),
        "the_family": Spec(
            the_family.draw_streams, figsize=(11, 4.2), controls=dict(
                # a slider over the variants in the chapter's order (stepped would sort them)
                variant=Control("variant", "Yogi", tuple(family_lab.VARIANTS),
                                static=tuple(family_lab.VARIANTS)),
                stream=choice("gradient", "shrinks ×100", family_lab.STREAMS)),
            usage="Pick a variant and a gradient stream: where does its step part from Adam's?"),
        "sensitivity": Spec(
            sensitivity.draw_sensitivity, figsize=(12, 4.3), controls=dict(
                problem=choice("problem", "least squares", ("least squares", "Rosenbrock")),
                steps=stepped("steps", 500, (100, 200, 500, 1000)),
                beta1=beta_control("β1", 0.9, static=(0.0, 0.9)),
                eps=log_control("ε", 1e-8, 1e-12, 1e2, decades_only=True,
                                static=(1e-8, 1.0, 1e2)),
                momentum=stepped("SGD μ", 0.9, (0.0, 0.5, 0.9, 0.95, 0.99))),
            usage="Raise ε to 100: Adam's step stops adapting and its curve takes the "
                  "shape of SGD's, at a larger α."),
        "worst_case_step": Spec(
            worst_case_step.draw_spike, figsize=(11, 4.2), controls=dict(
                beta2=stepped("β2", 0.999, worst_lab.SPIKE_BETA2S, static=(0.99, 0.999, 0.9999)),
                jump=stepped("gradient scale at step 3000", 10.0, worst_lab.SPIKE_JUMPS,
                             static=(0.1, 10.0, 1000.0), text=lambda v: f"×{v:g}")),
            usage="Raise the jump at β2 = 0.999, then at 0.99: the step never passes S∞."),
    }


EXPLORERS: dict[str, Spec] = _specs()


def spec(name: str) -> Spec:
    """The explorer called ``name`` (a chapter's name)."""
    if name not in EXPLORERS:
        raise ValueError(f"name must be one of {sorted(EXPLORERS)}, got {name!r}")
    return EXPLORERS[name]


def explore(name: str) -> Explorer:
    """The live explorer of chapter ``name``, at its default values."""
    chosen = spec(name)
    return Explorer(chosen.draw, chosen.controls, figsize=chosen.figsize,
                    hint=f"Explorer ({name}): run this cell, then move a control. "
                         f"{chosen.usage}")
