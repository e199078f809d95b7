//! Multinomial logistic regression on sparse rows: the L2-penalised softmax
//! cross-entropy, minimised by L-BFGS.
//!
//! Owns the numerical core of training. A ticket has a few dozen non-zero
//! features out of tens of thousands, so the design matrix is kept in
//! compressed sparse rows and one pass over it costs `non-zeros × classes`,
//! not `rows × features × classes` as a dense solver's would. The objective
//! is scikit-learn's `0.5‖W‖² + C Σ cross-entropy` divided by `C · n` (the
//! same minimiser, better scaled for the line search); intercepts are not
//! penalised.

/// Rows of non-zero `(column, value)` pairs.
#[derive(Debug, Clone, Default)]
pub(crate) struct SparseRows {
    offsets: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<f32>,
}

impl SparseRows {
    /// An empty matrix.
    pub(crate) fn new() -> Self {
        SparseRows { offsets: vec![0], columns: Vec::new(), values: Vec::new() }
    }

    /// Appends a row.
    pub(crate) fn push_row(&mut self, pairs: &[(u32, f32)]) {
        for &(column, value) in pairs {
            self.columns.push(column);
            self.values.push(value);
        }
        self.offsets.push(self.columns.len());
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    fn row(&self, row: usize) -> (&[u32], &[f32]) {
        let (start, end) = (self.offsets[row], self.offsets[row + 1]);
        (&self.columns[start..end], &self.values[start..end])
    }
}

/// One fitting problem: which rows, their labels, the penalty.
pub(crate) struct Problem<'a> {
    /// The design matrix (all training rows).
    pub x: &'a SparseRows,
    /// The rows of `x` this problem fits on.
    pub rows: &'a [usize],
    /// The label of each row of `x` (indexed like `x`, not like `rows`).
    pub gold: &'a [usize],
    /// Columns of `x`.
    pub n_features: usize,
    /// Labels.
    pub n_classes: usize,
    /// scikit-learn's `C` (inverse penalty).
    pub c: f64,
    /// Threads that share each pass over the rows (1 inside
    /// cross-validation, whose folds already run in parallel).
    pub threads: usize,
}

/// Parameters: `n_features × n_classes` weights, feature-major, then one
/// intercept per class.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parameters {
    /// Weights then intercepts.
    pub values: Vec<f64>,
    /// Labels.
    pub n_classes: usize,
}

impl Parameters {
    /// All zero.
    pub(crate) fn zeros(n_features: usize, n_classes: usize) -> Self {
        Parameters { values: vec![0.0; (n_features + 1) * n_classes], n_classes }
    }

    fn split(&self) -> (&[f64], &[f64]) {
        self.values.split_at(self.values.len() - self.n_classes)
    }

    /// The weights of a feature, one per class.
    pub(crate) fn weights(&self, feature: usize) -> &[f64] {
        &self.values[feature * self.n_classes..(feature + 1) * self.n_classes]
    }

    /// The intercepts, one per class.
    pub(crate) fn intercepts(&self) -> &[f64] {
        self.split().1
    }

    /// The raw scores of row `row` of `x` into `scores`.
    pub(crate) fn scores(&self, x: &SparseRows, row: usize, scores: &mut [f64]) {
        let (weights, intercepts) = self.split();
        scores.copy_from_slice(intercepts);
        let k = self.n_classes;
        let (columns, values) = x.row(row);
        for (&column, &value) in columns.iter().zip(values) {
            let w = &weights[column as usize * k..(column as usize + 1) * k];
            let value = f64::from(value);
            for (score, weight) in scores.iter_mut().zip(w) {
                *score += value * weight;
            }
        }
    }
}

/// When L-BFGS stops.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopping {
    /// Iteration cap.
    pub max_iterations: usize,
    /// Stop when the largest gradient entry falls below this (the objective
    /// is a mean over rows, so this is scikit-learn's `tol` for its lbfgs).
    pub gradient_tolerance: f64,
    /// Stop when an iteration lowers the objective by less than this
    /// fraction of it (or of 1, when it is smaller).
    pub objective_tolerance: f64,
}

/// What a fit did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FitReport {
    /// L-BFGS iterations.
    pub iterations: usize,
    /// The objective at the end.
    pub objective: f64,
    /// Whether a tolerance was met (rather than the iteration cap).
    pub converged: bool,
}

impl Problem<'_> {
    /// The objective at `params`, and its gradient into `gradient`.
    fn objective(&self, params: &Parameters, gradient: &mut [f64], scores: &mut [f64]) -> f64 {
        let k = self.n_classes;
        let threads = self.threads.clamp(1, 8).min(self.rows.len() / 1000).max(1);
        let mut loss = if threads == 1 {
            self.data_term(self.rows, params, gradient, scores)
        } else {
            // Each thread sums its share of the rows into its own gradient;
            // the shares are then added in a fixed order, so the result does
            // not depend on scheduling.
            let chunk = self.rows.len().div_ceil(threads);
            let (first, rest) = self.rows.split_at(chunk.min(self.rows.len()));
            let partials: Vec<(f64, Vec<f64>)> = std::thread::scope(|scope| {
                let handles: Vec<_> = rest
                    .chunks(chunk)
                    .map(|rows| {
                        scope.spawn(move || {
                            let mut gradient = vec![0.0; params.values.len()];
                            let mut scores = vec![0.0; k];
                            (self.data_term(rows, params, &mut gradient, &mut scores), gradient)
                        })
                    })
                    .collect();
                let own = self.data_term(first, params, gradient, scores);
                let mut partials = vec![(own, Vec::new())];
                partials.extend(handles.into_iter().filter_map(|h| h.join().ok()));
                partials
            });
            let mut loss = 0.0;
            for (part_loss, part_gradient) in &partials {
                loss += part_loss;
                for (g, p) in gradient.iter_mut().zip(part_gradient) {
                    *g += p;
                }
            }
            loss
        };
        let weight_len = self.n_features * k;
        let n = self.rows.len().max(1) as f64;
        let penalty = 1.0 / (self.c * n);
        let mut squares = 0.0;
        for (g, &w) in gradient[..weight_len].iter_mut().zip(&params.values[..weight_len]) {
            *g = *g / n + penalty * w;
            squares += w * w;
        }
        for g in &mut gradient[weight_len..] {
            *g /= n;
        }
        loss /= n;
        loss + 0.5 * penalty * squares
    }

    /// The summed cross-entropy of `rows` and its gradient into `gradient`
    /// (zeroed first), without penalty or averaging.
    fn data_term(&self, rows: &[usize], params: &Parameters, gradient: &mut [f64], scores: &mut [f64]) -> f64 {
        let k = self.n_classes;
        gradient.fill(0.0);
        let weight_len = self.n_features * k;
        let mut loss = 0.0;
        for &row in rows {
            params.scores(self.x, row, scores);
            let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut total = 0.0;
            for score in scores.iter_mut() {
                *score = (*score - max).exp();
                total += *score;
            }
            let gold = self.gold[row];
            // −log p(gold) = log Σ exp(s) − s_gold, with the max taken out.
            loss += total.ln() - scores[gold].ln().max(-745.0);
            let inv_total = 1.0 / total;
            for score in scores.iter_mut() {
                *score *= inv_total;
            }
            scores[gold] -= 1.0;
            let (columns, values) = self.x.row(row);
            for (&column, &value) in columns.iter().zip(values) {
                let g = &mut gradient[column as usize * k..(column as usize + 1) * k];
                let value = f64::from(value);
                for (g, &residual) in g.iter_mut().zip(scores.iter()) {
                    *g += value * residual;
                }
            }
            for (g, &residual) in gradient[weight_len..].iter_mut().zip(scores.iter()) {
                *g += residual;
            }
        }
        loss
    }

    /// Minimises the objective from `params` (a warm start, or zeros).
    pub(crate) fn fit(&self, params: &mut Parameters, stopping: Stopping) -> FitReport {
        let size = params.values.len();
        let mut scores = vec![0.0; self.n_classes];
        let mut gradient = vec![0.0; size];
        let mut objective = self.objective(params, &mut gradient, &mut scores);
        let mut history = History::new(7);
        let mut direction = vec![0.0; size];
        let mut trial = params.clone();
        let mut trial_gradient = vec![0.0; size];
        let mut iterations = 0;
        let mut converged = false;
        while iterations < stopping.max_iterations {
            if max_abs(&gradient) <= stopping.gradient_tolerance {
                converged = true;
                break;
            }
            iterations += 1;
            history.direction(&gradient, &mut direction);
            let mut slope = dot(&direction, &gradient);
            if slope >= 0.0 {
                // Not a descent direction (curvature pairs gone stale): restart
                // from steepest descent.
                history.clear();
                for (d, g) in direction.iter_mut().zip(&gradient) {
                    *d = -g;
                }
                slope = -dot(&gradient, &gradient);
            }
            let mut step = if history.is_empty() { 1.0 / max_abs(&gradient).max(1.0) } else { 1.0 };
            let mut accepted = None;
            for _ in 0..40 {
                for ((t, &p), &d) in trial.values.iter_mut().zip(&params.values).zip(&direction) {
                    *t = p + step * d;
                }
                let value = self.objective(&trial, &mut trial_gradient, &mut scores);
                if value.is_finite() && value <= objective + 1e-4 * step * slope {
                    accepted = Some(value);
                    break;
                }
                step *= 0.5;
            }
            let Some(value) = accepted else {
                // No decrease along the direction: as close as floating point gets.
                converged = true;
                break;
            };
            history.push(&trial.values, &params.values, &trial_gradient, &gradient);
            std::mem::swap(params, &mut trial);
            std::mem::swap(&mut gradient, &mut trial_gradient);
            let decrease = objective - value;
            objective = value;
            if decrease <= stopping.objective_tolerance * objective.abs().max(1.0) {
                converged = true;
                break;
            }
        }
        FitReport { iterations, objective, converged }
    }
}

/// The last few steps and gradient changes, for the two-loop recursion.
struct History {
    capacity: usize,
    steps: Vec<Vec<f64>>,
    changes: Vec<Vec<f64>>,
    rhos: Vec<f64>,
    /// Index of the oldest pair (a ring buffer once full).
    oldest: usize,
    alphas: Vec<f64>,
    spare_step: Vec<f64>,
    spare_change: Vec<f64>,
}

impl History {
    fn new(capacity: usize) -> Self {
        History {
            capacity,
            steps: Vec::new(),
            changes: Vec::new(),
            rhos: Vec::new(),
            oldest: 0,
            alphas: Vec::new(),
            spare_step: Vec::new(),
            spare_change: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    fn clear(&mut self) {
        self.steps.clear();
        self.changes.clear();
        self.rhos.clear();
        self.oldest = 0;
    }

    fn push(&mut self, new: &[f64], old: &[f64], new_gradient: &[f64], old_gradient: &[f64]) {
        let fill = |into: &mut Vec<f64>, a: &[f64], b: &[f64]| {
            into.clear();
            into.extend(a.iter().zip(b).map(|(a, b)| a - b));
        };
        fill(&mut self.spare_step, new, old);
        fill(&mut self.spare_change, new_gradient, old_gradient);
        let curvature = dot(&self.spare_step, &self.spare_change);
        if curvature <= 1e-12 * dot(&self.spare_change, &self.spare_change).max(f64::MIN_POSITIVE) {
            // Skipping the pair keeps the inverse-Hessian estimate positive definite.
            return;
        }
        let (step, change) = (std::mem::take(&mut self.spare_step), std::mem::take(&mut self.spare_change));
        if self.steps.len() == self.capacity {
            // The oldest pair's buffers become the next spares.
            self.spare_step = std::mem::replace(&mut self.steps[self.oldest], step);
            self.spare_change = std::mem::replace(&mut self.changes[self.oldest], change);
            self.rhos[self.oldest] = 1.0 / curvature;
            self.oldest = (self.oldest + 1) % self.capacity;
        } else {
            self.steps.push(step);
            self.changes.push(change);
            self.rhos.push(1.0 / curvature);
        }
    }

    /// `direction = −H·gradient` with the stored pairs (two-loop recursion).
    fn direction(&mut self, gradient: &[f64], direction: &mut [f64]) {
        for (d, g) in direction.iter_mut().zip(gradient) {
            *d = -g;
        }
        let len = self.steps.len();
        if len == 0 {
            return;
        }
        // Newest first: the ring's order starts at `oldest`.
        let order: Vec<usize> = (0..len).map(|i| (self.oldest + i) % len).collect();
        self.alphas.clear();
        self.alphas.resize(len, 0.0);
        for &i in order.iter().rev() {
            let alpha = self.rhos[i] * dot(&self.steps[i], direction);
            self.alphas[i] = alpha;
            axpy(-alpha, &self.changes[i], direction);
        }
        let newest = order[len - 1];
        let gamma = dot(&self.steps[newest], &self.changes[newest]) / dot(&self.changes[newest], &self.changes[newest]);
        for d in direction.iter_mut() {
            *d *= gamma;
        }
        for &i in &order {
            let beta = self.rhos[i] * dot(&self.changes[i], direction);
            axpy(self.alphas[i] - beta, &self.steps[i], direction);
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn axpy(scale: f64, x: &[f64], y: &mut [f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += scale * x;
    }
}

fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |max, v| max.max(v.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three separable-ish classes on four features, with noise rows.
    fn toy() -> (SparseRows, Vec<usize>) {
        let mut x = SparseRows::new();
        let mut gold = Vec::new();
        for i in 0..60u32 {
            let class = (i % 3) as usize;
            let noise = ((i * 7) % 4) as f32 * 0.1;
            x.push_row(&[(class as u32, 1.0), (3, noise)]);
            gold.push(class);
        }
        (x, gold)
    }

    const TIGHT: Stopping = Stopping { max_iterations: 500, gradient_tolerance: 1e-9, objective_tolerance: 0.0 };

    #[test]
    fn the_gradient_matches_finite_differences() {
        let (x, gold) = toy();
        let rows: Vec<usize> = (0..x.len()).collect();
        let problem = Problem { x: &x, rows: &rows, gold: &gold, n_features: 4, n_classes: 3, c: 0.7, threads: 1 };
        let mut params = Parameters::zeros(4, 3);
        for (i, v) in params.values.iter_mut().enumerate() {
            *v = ((i * 37 % 11) as f64 - 5.0) * 0.1;
        }
        let mut gradient = vec![0.0; params.values.len()];
        let mut scores = vec![0.0; 3];
        problem.objective(&params, &mut gradient, &mut scores);
        let mut scratch = vec![0.0; params.values.len()];
        for (i, &analytic) in gradient.iter().enumerate() {
            let h = 1e-6;
            let mut plus = params.clone();
            plus.values[i] += h;
            let mut minus = params.clone();
            minus.values[i] -= h;
            let numeric = (problem.objective(&plus, &mut scratch, &mut scores)
                - problem.objective(&minus, &mut scratch, &mut scores))
                / (2.0 * h);
            assert!((numeric - analytic).abs() < 1e-6, "entry {i}: numeric {numeric}, analytic {analytic}");
        }
    }

    #[test]
    fn the_fit_reaches_a_stationary_point_and_classifies_the_rows() {
        let (x, gold) = toy();
        let rows: Vec<usize> = (0..x.len()).collect();
        let problem = Problem { x: &x, rows: &rows, gold: &gold, n_features: 4, n_classes: 3, c: 10.0, threads: 1 };
        let mut params = Parameters::zeros(4, 3);
        let report = problem.fit(&mut params, TIGHT);
        assert!(report.converged, "{report:?}");
        let mut gradient = vec![0.0; params.values.len()];
        let mut scores = vec![0.0; 3];
        problem.objective(&params, &mut gradient, &mut scores);
        assert!(max_abs(&gradient) < 1e-6, "gradient {}", max_abs(&gradient));
        for &row in &rows {
            params.scores(&x, row, &mut scores);
            let best = (0..3).max_by(|&a, &b| scores[a].total_cmp(&scores[b]));
            assert_eq!(best, Some(gold[row]));
        }
    }

    #[test]
    fn a_warm_start_at_the_optimum_stops_at_once() {
        let (x, gold) = toy();
        let rows: Vec<usize> = (0..x.len()).collect();
        let problem = Problem { x: &x, rows: &rows, gold: &gold, n_features: 4, n_classes: 3, c: 1.0, threads: 1 };
        let mut params = Parameters::zeros(4, 3);
        let cold = problem.fit(&mut params, TIGHT);
        let warm = problem.fit(&mut params, TIGHT);
        assert!(cold.iterations > 2 && warm.iterations == 0, "cold {cold:?}, warm {warm:?}");
        assert!((warm.objective - cold.objective).abs() < 1e-9);
    }

    #[test]
    fn a_stronger_penalty_gives_smaller_weights() {
        let (x, gold) = toy();
        let rows: Vec<usize> = (0..x.len()).collect();
        let norm = |c: f64| {
            let problem = Problem { x: &x, rows: &rows, gold: &gold, n_features: 4, n_classes: 3, c, threads: 1 };
            let mut params = Parameters::zeros(4, 3);
            problem.fit(&mut params, TIGHT);
            dot(&params.values[..12], &params.values[..12])
        };
        assert!(norm(0.1) < norm(1.0) && norm(1.0) < norm(10.0));
    }
}

#[cfg(test)]
mod threaded_tests {
    use super::*;

    #[test]
    fn threads_give_the_same_objective_and_gradient() {
        let mut x = SparseRows::new();
        let mut gold = Vec::new();
        for i in 0..5000u32 {
            x.push_row(&[(i % 7, 1.0), (7 + i % 5, 0.5), (12, (i % 3) as f32)]);
            gold.push((i % 4) as usize);
        }
        let rows: Vec<usize> = (0..x.len()).collect();
        let mut params = Parameters::zeros(13, 4);
        for (i, v) in params.values.iter_mut().enumerate() {
            *v = ((i * 13 % 7) as f64 - 3.0) * 0.05;
        }
        let run = |threads| {
            let problem = Problem { x: &x, rows: &rows, gold: &gold, n_features: 13, n_classes: 4, c: 2.0, threads };
            let mut gradient = vec![0.0; params.values.len()];
            let value = problem.objective(&params, &mut gradient, &mut [0.0; 4]);
            (value, gradient)
        };
        let (one, one_gradient) = run(1);
        let (three, three_gradient) = run(3);
        assert!((one - three).abs() < 1e-12 * one.abs());
        for (a, b) in one_gradient.iter().zip(&three_gradient) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}
