//! The network in candle (embedding bag and standardised dense features → ReLU layer → a
//! low-rank head with one logit per tier, plus a linear path from the dense features to each
//! logit; exported as one plain MLP on raw features by [`crate::dense`]), the masked stable
//! binary cross-entropy, and the training loop (candle's AdamW for the dense layers, lazy AdamW
//! for the embedding rows a batch uses, early stopping, seeded).
use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::Dataset;
use crate::dense::{DenseScale, Layers};
use crate::error::Result;
use crate::sparse_adam::SparseAdamW;

/// Numerically stable BCE on logits, averaged over the observed cells only:
/// Σ m · (max(x, 0) − x·y + ln(1 + e^−|x|)) / max(Σ m, 1).
pub fn masked_bce(logits: &Tensor, y: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let relu = logits.relu()?;
    let soft = logits.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    let per = ((relu - (logits * y)?)? + soft)?;
    let n = mask.sum_all()?.to_scalar::<f32>()?.max(1.0);
    Ok(((per * mask)?.sum_all()? / n as f64)?)
}

/// Hyper-parameters.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Embedding width (of one net: an ensemble's members sit side by side).
    pub dim: usize,
    /// Hidden width (of one net).
    pub hidden: usize,
    /// Maximum epochs.
    pub epochs: usize,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// Batch size.
    pub batch: usize,
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Seed for initialisation and batch order.
    pub seed: u64,
    /// Minimum number of training prompts a bucket must occur in to get an embedding row.
    pub min_count: usize,
    /// Rank of the output layer (`w2 = A·B`, `A: [tiers, rank]`); 0 = full rank. A low rank
    /// ties the tiers together (rank 1 is one difficulty score per prompt, read by every tier
    /// with its own offset and slope), which keeps noise from flipping the argmax on small sets.
    pub head_rank: usize,
    /// A linear path from the dense features straight to each tier's logit, next to the MLP
    /// (exported as extra hidden units; see [`crate::dense::export_layers`]).
    pub dense_skip: bool,
    /// Floor on the spread the dense features are standardised by (see
    /// [`crate::dense::DenseScale`]).
    pub dense_floor: f64,
}

/// A fitted net in training form: the dense layers act on the standardised dense features (see
/// [`crate::dense::DenseScale`]) and the linear path is its own matrix;
/// [`crate::dense::export_layers`] turns it into the serving MLP. Compact embedding: row i is
/// bucket `rows[i]`.
#[derive(Debug, Clone)]
pub struct Net {
    /// Embedding width.
    pub dim: usize,
    /// `w1 [hidden, dim + d]`, `b1`, `w2 [tiers, hidden]` (materialised from a low-rank head),
    /// `b2`.
    pub layers: Layers,
    /// `[tiers, d]`: the linear path from the standardised dense features (empty without one).
    pub skip: Vec<f32>,
    /// Buckets of the embedding rows, sorted.
    pub rows: Vec<u32>,
    /// How many training prompts hold each row's bucket.
    pub row_prompts: Vec<u32>,
    /// `[rows, dim]`.
    pub embedding: Vec<f32>,
}

impl Net {
    /// Round the embedding to the nearest f16 values (kept as f32): the artifact then stores it
    /// as F16 with nothing lost, and serving reads half the memory. Every later step (the
    /// member's calibration, the validation curve) sees the rounded net, so the served router
    /// is exactly the one validated. A logit moves by about 5e-4 of its size. Left as is when a
    /// value lies beyond f16's range (it is then written as F32).
    pub fn round_embedding_to_f16(&mut self) {
        if self
            .embedding
            .iter()
            .all(|x| x.abs() <= f32::from(half::f16::MAX))
        {
            for x in self.embedding.iter_mut() {
                *x = half::f16::from_f32(*x).to_f32();
            }
        }
    }
}

/// The outcome of [`fit`]: the net with the best validation loss.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The weights kept.
    pub net: Net,
    /// Epochs run.
    pub epochs: usize,
    /// Epoch of the kept weights (1-based).
    pub best_epoch: usize,
    /// Its validation loss.
    pub val_loss: f64,
}

struct Params {
    /// `[rows, dim]`, updated by [`SparseAdamW`] (only the rows a batch uses).
    emb: Vec<f32>,
    dim: usize,
    w1: Var,
    b1: Var,
    /// Full rank: `[tiers, hidden]`; low rank: `A` of `[tiers, rank]`.
    w2: Var,
    /// Low rank only: `B` of `[rank, hidden]`.
    w2b: Option<Var>,
    b2: Var,
    /// `[tiers, dense]`: the linear path from the standardised dense features to the logits.
    skip: Option<Var>,
}

impl Params {
    fn all(&self) -> Vec<Var> {
        let mut v = vec![
            self.w1.clone(),
            self.b1.clone(),
            self.w2.clone(),
            self.b2.clone(),
        ];
        v.extend(self.w2b.clone());
        v.extend(self.skip.clone());
        v
    }
    /// The output matrix `[tiers, hidden]` (materialised from `A·B` when low rank).
    fn w2(&self) -> Result<Tensor> {
        Ok(match &self.w2b {
            Some(b) => self.w2.as_tensor().matmul(b.as_tensor())?,
            None => self.w2.as_tensor().clone(),
        })
    }
    /// The rows `ids` of the embedding as a `[ids, dim]` tensor.
    fn rows(&self, ids: &[u32], dev: &Device) -> Result<Tensor> {
        let d = self.dim;
        let mut out = Vec::with_capacity(ids.len() * d);
        for &r in ids {
            out.extend_from_slice(&self.emb[r as usize * d..(r as usize + 1) * d]);
        }
        Ok(Tensor::from_vec(out, (ids.len(), d), dev)?)
    }
    fn values(&self) -> Result<[Vec<f32>; 6]> {
        let v = |x: &Tensor| x.flatten_all()?.to_vec1::<f32>();
        Ok([
            self.emb.clone(),
            v(self.w1.as_tensor())?,
            v(self.b1.as_tensor())?,
            v(&self.w2()?)?,
            v(self.b2.as_tensor())?,
            match &self.skip {
                Some(s) => v(s.as_tensor())?,
                None => Vec::new(),
            },
        ])
    }
}

/// One batch. The embedding bag is a dense `[b, u]` weight matrix over the `u` distinct rows the
/// batch uses, times those rows: far less memory traffic than gathering every token's row.
struct Batch {
    ids: Vec<u32>,
    wts: Tensor,
    dense: Tensor,
    y: Tensor,
    mask: Tensor,
}

fn batch(
    data: &Dataset,
    idx: &[usize],
    row_of: &HashMap<u32, u32>,
    scale: &DenseScale,
    dev: &Device,
) -> Result<Batch> {
    let b = idx.len();
    let nt = data.tiers;
    let d = data.examples[0].dense.len();
    // (example in the batch, row, weight) of every bucket with a row, each looked up once.
    let cells: Vec<(usize, u32, f32)> = idx
        .iter()
        .enumerate()
        .flat_map(|(k, &i)| {
            let e = &data.examples[i];
            e.buckets
                .iter()
                .zip(&e.weights)
                .filter_map(move |(bk, &w)| row_of.get(bk).map(|&r| (k, r, w)))
        })
        .collect();
    let mut rows: Vec<u32> = cells.iter().map(|&(_, r, _)| r).collect();
    rows.sort_unstable();
    rows.dedup();
    if rows.is_empty() {
        rows.push(0); // weight 0 everywhere: the bag is 0
    }
    let u = rows.len();
    let mut wts = vec![0f32; b * u];
    for &(k, r, w) in &cells {
        let j = rows.binary_search(&r).expect("row of this batch");
        wts[k * u + j] += w;
    }
    let mut dense = Vec::with_capacity(b * d);
    let (mut y, mut mask) = (Vec::with_capacity(b * nt), Vec::with_capacity(b * nt));
    for &i in idx {
        let e = &data.examples[i];
        scale.apply(&e.dense, &mut dense);
        y.extend_from_slice(&data.y[i * nt..(i + 1) * nt]);
        mask.extend_from_slice(&data.mask[i * nt..(i + 1) * nt]);
    }
    Ok(Batch {
        ids: rows,
        wts: Tensor::from_vec(wts, (b, u), dev)?,
        dense: Tensor::from_vec(dense, (b, d), dev)?,
        y: Tensor::from_vec(y, (b, nt), dev)?,
        mask: Tensor::from_vec(mask, (b, nt), dev)?,
    })
}

/// Logits of a batch, given its embedding rows `e` (`[ids, dim]`).
fn forward(p: &Params, x: &Batch, e: &Tensor) -> Result<Tensor> {
    let bag = x.wts.matmul(e)?;
    let input = Tensor::cat(&[&bag, &x.dense], 1)?;
    let h = input
        .matmul(&p.w1.as_tensor().t()?)?
        .broadcast_add(p.b1.as_tensor())?
        .relu()?;
    let out = h.matmul(&p.w2()?.t()?)?.broadcast_add(p.b2.as_tensor())?;
    Ok(match &p.skip {
        Some(s) => (out + x.dense.matmul(&s.as_tensor().t()?)?)?,
        None => out,
    })
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
}

/// The buckets that get an embedding row, sorted, and how many `train` prompts hold each: those
/// seen in at least `min_count` training prompts (rarer ones could only be memorised, and every
/// row costs optimiser time on every step). Never empty: a lone row 0 stands in for none.
pub fn embedding_rows(data: &Dataset, train: &[usize], min_count: usize) -> (Vec<u32>, Vec<u32>) {
    let mut all: Vec<u32> = train
        .iter()
        .flat_map(|&i| data.examples[i].buckets.iter().copied())
        .collect();
    all.sort_unstable();
    let mut rows: Vec<u32> = Vec::new();
    let mut row_prompts: Vec<u32> = Vec::new();
    for run in all.chunk_by(|a, b| a == b) {
        if run.len() >= min_count.max(1) {
            rows.push(run[0]);
            row_prompts.push(run.len() as u32);
        }
    }
    if rows.is_empty() {
        rows.push(0);
        row_prompts.push(0);
    }
    (rows, row_prompts)
}

/// Prompt `e`'s bag on `rows` (sorted buckets, as [`embedding_rows`] gives them): per bucket
/// with a row, `(row index, weight)`; the others are left out.
pub(crate) fn bag_on_rows<'a>(
    e: &'a crate::data::Example,
    rows: &'a [u32],
) -> impl Iterator<Item = (u32, f32)> + 'a {
    e.buckets
        .iter()
        .zip(&e.weights)
        .filter_map(|(b, &w)| rows.binary_search(b).ok().map(|r| (r as u32, w)))
}

/// Fit on `train` prompts, early-stopping on `val` prompts, with the dense features standardised
/// by `scale`; `on_epoch(epoch, train, val)`.
pub fn fit(
    data: &Dataset,
    train: &[usize],
    val: &[usize],
    cfg: &NetConfig,
    scale: &DenseScale,
    mut on_epoch: impl FnMut(usize, f64, f64),
) -> Result<Trained> {
    let dev = Device::Cpu;
    let (rows, row_prompts) = embedding_rows(data, train, cfg.min_count);
    let row_of: HashMap<u32, u32> = rows
        .iter()
        .enumerate()
        .map(|(i, &b)| (b, i as u32))
        .collect();
    let nt = data.tiers;
    let input = cfg.dim + data.examples[0].dense.len();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    // Base rates as the starting output bias; zero embedding (unseen buckets stay exactly 0).
    let b2: Vec<f32> = (0..nt)
        .map(|t| {
            let (mut pos, mut n) = (1.0f32, 2.0f32);
            for &i in train {
                pos += data.y[i * nt + t] * data.mask[i * nt + t];
                n += data.mask[i * nt + t];
            }
            (pos / (n - pos)).ln()
        })
        .collect();
    let var = |v: Vec<f32>, shape: &[usize]| -> Result<Var> {
        Ok(Var::from_tensor(&Tensor::from_vec(v, shape, &dev)?)?)
    };
    let w2_cols = match cfg.head_rank {
        0 => cfg.hidden,
        rank => rank,
    };
    let mut p = Params {
        emb: vec![0.0; rows.len() * cfg.dim],
        dim: cfg.dim,
        w1: var(
            uniform(&mut rng, cfg.hidden * input, (6.0 / input as f32).sqrt()),
            &[cfg.hidden, input],
        )?,
        b1: var(vec![0.0; cfg.hidden], &[cfg.hidden])?,
        // Full rank: `[tiers, hidden]`; low rank: `A` of `[tiers, rank]`, then `B` below.
        w2: var(
            uniform(&mut rng, nt * w2_cols, (1.0 / w2_cols as f32).sqrt()),
            &[nt, w2_cols],
        )?,
        w2b: match cfg.head_rank {
            0 => None,
            rank => Some(var(
                uniform(
                    &mut rng,
                    rank * cfg.hidden,
                    (1.0 / cfg.hidden as f32).sqrt(),
                ),
                &[rank, cfg.hidden],
            )?),
        },
        b2: var(b2, &[nt])?,
        skip: if cfg.dense_skip {
            let d = input - cfg.dim;
            Some(var(vec![0.0; nt * d], &[nt, d])?)
        } else {
            None
        },
    };
    let mut opt = AdamW::new(
        p.all(),
        ParamsAdamW {
            lr: cfg.lr,
            weight_decay: cfg.weight_decay,
            ..Default::default()
        },
    )?;
    let mut sparse = SparseAdamW::new(rows.len(), cfg.dim, cfg.lr, cfg.weight_decay);
    let val_batches: Vec<Batch> = val
        .chunks(cfg.batch.max(1))
        .map(|c| batch(data, c, &row_of, scale, &dev))
        .collect::<Result<_>>()?;
    let val_loss = |p: &Params| -> Result<f64> {
        let (mut s, mut n) = (0.0, 0.0);
        for b in &val_batches {
            let m = b.mask.sum_all()?.to_scalar::<f32>()? as f64;
            let e = p.rows(&b.ids, &dev)?;
            s += masked_bce(&forward(p, b, &e)?, &b.y, &b.mask)?.to_scalar::<f32>()? as f64
                * m.max(1.0);
            n += m;
        }
        Ok(if n > 0.0 { s / n } else { f64::NAN })
    };
    let mut order: Vec<usize> = train.to_vec();
    let mut best = (f64::INFINITY, 0usize, p.values()?);
    let mut epochs = 0;
    for epoch in 1..=cfg.epochs {
        epochs = epoch;
        order.shuffle(&mut rng);
        let (mut tl, mut tn) = (0.0, 0usize);
        for chunk in order.chunks(cfg.batch.max(1)) {
            let b = batch(data, chunk, &row_of, scale, &dev)?;
            let e = Var::from_tensor(&p.rows(&b.ids, &dev)?)?;
            let loss = masked_bce(&forward(&p, &b, e.as_tensor())?, &b.y, &b.mask)?;
            let grads = loss.backward()?;
            opt.step(&grads)?;
            if let Some(g) = grads.get(e.as_tensor()) {
                let g = g.flatten_all()?.to_vec1::<f32>()?;
                sparse.step(&mut p.emb, &b.ids, &g);
            }
            tl += loss.to_scalar::<f32>()? as f64;
            tn += 1;
        }
        let train_loss = tl / tn.max(1) as f64;
        let vl = if val.is_empty() {
            train_loss
        } else {
            val_loss(&p)?
        };
        on_epoch(epoch, train_loss, vl);
        if val.is_empty() || vl < best.0 - 1e-5 {
            best = (vl, epoch, p.values()?);
        } else if epoch - best.1 >= cfg.patience {
            break;
        }
    }
    let (val_loss, best_epoch, [embedding, w1, b1, w2, b2, skip]) = best;
    Ok(Trained {
        net: Net {
            dim: cfg.dim,
            layers: Layers {
                w1,
                b1,
                w2,
                b2,
                hidden: cfg.hidden,
            },
            skip,
            rows,
            row_prompts,
            embedding,
        },
        epochs,
        best_epoch,
        val_loss,
    })
}

#[cfg(test)]
/// Test reference: a net's training-form logits, straight from the definition, for a bag of
/// `(bucket, weight)` (buckets without a row add nothing) and standardised dense features `x`.
pub(crate) fn reference_logits(n: &Net, bag: &[(u32, f32)], x: &[f32]) -> Vec<f32> {
    let mut input = vec![0f32; n.dim];
    for &(b, w) in bag {
        if let Ok(r) = n.rows.binary_search(&b) {
            let row = &n.embedding[r * n.dim..(r + 1) * n.dim];
            input.iter_mut().zip(row).for_each(|(a, e)| *a += w * e);
        }
    }
    input.extend_from_slice(x);
    let l = &n.layers;
    let h: Vec<f32> = (0..l.hidden)
        .map(|u| {
            let z = l.b1[u]
                + (0..input.len())
                    .map(|j| l.w1[u * input.len() + j] * input[j])
                    .sum::<f32>();
            z.max(0.0)
        })
        .collect();
    (0..l.b2.len())
        .map(|t| {
            let mut z = l.b2[t]
                + (0..l.hidden)
                    .map(|u| l.w2[t * l.hidden + u] * h[u])
                    .sum::<f32>();
            if !n.skip.is_empty() {
                z += (0..x.len())
                    .map(|j| n.skip[t * x.len() + j] * x[j])
                    .sum::<f32>();
            }
            z
        })
        .collect()
}

/// DType used throughout (f32 on CPU).
pub const DTYPE: DType = DType::F32;
