//! Pretrained token vectors: the input embedding table of a BERT-family encoder (e.g.
//! all-MiniLM-L6-v2's `embeddings.word_embeddings.weight`, one row per token of its
//! `tokenizer.json`), read by the linear member as a prompt's mean token vector.
//!
//! Why: on a few hundred prompts the bag of words has seen too few of the words that tell a hard
//! task from an easy one; pretrained vectors carry what related words share. Serving never sees
//! them: the regression's weights times each token's vector become that token's unigram row
//! (see [`crate::linear`]), so a decide costs what it did and the artifact format is unchanged.
//!
//! Not here: the encoder's layers (milliseconds per prompt), or downloading (the file is found by
//! path or in the local Hugging Face cache, [`crate::hub`]).
use std::path::Path;

use safetensors::{Dtype, SafeTensors};
use tierwise_router::features::Featuriser;

use crate::data::Example;
use crate::error::{Error, Result};

/// Tensor names of a BERT-family input embedding table, as the common checkpoints spell them.
pub const TENSOR_NAMES: [&str; 3] = [
    "embeddings.word_embeddings.weight",
    "bert.embeddings.word_embeddings.weight",
    "word_embeddings.weight",
];

/// One vector per token id: `[vocab, dim]`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenVectors {
    /// Width of a vector.
    pub dim: usize,
    /// The vectors.
    pub data: Vec<f32>,
}

impl TokenVectors {
    /// Read the input embedding table from a `model.safetensors` (F32, F16 or BF16; one of
    /// [`TENSOR_NAMES`]).
    pub fn load(path: &Path) -> Result<TokenVectors> {
        let bad = |reason: String| Error::Data(format!("{}: {reason}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| bad(format!("not a valid safetensors file ({e})")))?;
        let Some(t) = TENSOR_NAMES.iter().find_map(|n| st.tensor(n).ok()) else {
            let mut names = st.names();
            names.sort();
            names.truncate(8);
            return Err(bad(format!(
                "no token embedding table (looked for {TENSOR_NAMES:?}; it holds {names:?}…)"
            )));
        };
        let [vocab, dim] = t.shape() else {
            return Err(bad(format!(
                "the token embedding table has shape {:?}, not [vocab, dim]",
                t.shape()
            )));
        };
        let d = t.data();
        let data: Vec<f32> = match t.dtype() {
            Dtype::F32 => d
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F16 => d
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::BF16 => d
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => {
                return Err(bad(format!(
                    "the token embedding table is {other:?}, not F32, F16 or BF16"
                )))
            }
        };
        if data.len() != vocab * dim || data.iter().any(|x| !x.is_finite()) {
            return Err(bad(
                "the token embedding table is truncated or not finite".into()
            ));
        }
        Ok(TokenVectors { dim: *dim, data })
    }

    /// Number of token ids.
    pub fn vocab(&self) -> usize {
        self.data.len() / self.dim.max(1)
    }
}

/// Per unigram bucket of the featuriser: the sum of the vectors of the token ids hashed there
/// (ids that share a bucket share a row at serving, so they share it here).
#[derive(Debug, Clone)]
pub struct BucketVectors {
    /// Buckets that hold some token's unigram, sorted.
    pub buckets: Vec<u32>,
    /// Width of a vector.
    pub dim: usize,
    /// `[buckets, dim]`.
    pub data: Vec<f32>,
}

impl BucketVectors {
    /// The vectors of `f`'s tokenizer's ids, by unigram bucket; an error unless the table has
    /// a row per token id.
    pub fn new(vectors: &TokenVectors, f: &Featuriser) -> Result<BucketVectors> {
        let vocab = f.tokenizer().get_vocab_size(true);
        if vectors.vocab() != vocab {
            return Err(Error::Data(format!(
                "the token vectors have {} rows but the tokenizer has {vocab} tokens: give the \
                 tokenizer.json of the same model (--tokenizer)",
                vectors.vocab()
            )));
        }
        let dim = vectors.dim;
        let mut by_bucket: Vec<(u32, usize)> = (0..vocab as u32)
            .map(|id| (f.unigram_bucket(id), id as usize))
            .collect();
        by_bucket.sort_unstable();
        let (mut buckets, mut data) = (Vec::new(), Vec::new());
        for (b, id) in by_bucket {
            let v = &vectors.data[id * dim..(id + 1) * dim];
            if buckets.last() != Some(&b) {
                buckets.push(b);
                data.extend_from_slice(v);
            } else {
                let at = data.len() - dim;
                data[at..].iter_mut().zip(v).for_each(|(a, x)| *a += x);
            }
        }
        Ok(BucketVectors { buckets, dim, data })
    }

    /// The vector of bucket `b` (none when no token's unigram is there).
    pub fn get(&self, b: u32) -> Option<&[f32]> {
        let i = self.buckets.binary_search(&b).ok()?;
        Some(&self.data[i * self.dim..(i + 1) * self.dim])
    }

    /// A prompt's mean vector as serving's bag sees it: `Σ weight · vector` over its buckets
    /// (a bigram that lands in a unigram's bucket counts too, as it does at serving).
    pub fn mean(&self, e: &Example) -> Vec<f32> {
        let mut out = vec![0f32; self.dim];
        for (&b, &w) in e.buckets.iter().zip(&e.weights) {
            if let Some(v) = self.get(b) {
                out.iter_mut().zip(v).for_each(|(a, x)| *a += w * x);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tierwise_router::features::FeaturiserConfig;

    fn write(dir: &Path, name: &str, dtype: Dtype, shape: Vec<usize>, bytes: &[u8]) -> PathBuf {
        let path = dir.join("model.safetensors");
        let view = safetensors::tensor::TensorView::new(dtype, shape, bytes).unwrap();
        std::fs::write(&path, safetensors::serialize([(name, view)], None).unwrap()).unwrap();
        path
    }

    use std::path::PathBuf;

    #[test]
    fn loads_f32_f16_and_bf16_tables_and_names_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let values = [0.5f32, -1.25, 2.0, 0.0, 3.5, -0.75];
        let f32s: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        let f16s: Vec<u8> = values
            .iter()
            .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
            .collect();
        let bf16s: Vec<u8> = values
            .iter()
            .flat_map(|&x| half::bf16::from_f32(x).to_le_bytes())
            .collect();
        for (name, dtype, bytes) in [
            (TENSOR_NAMES[0], Dtype::F32, &f32s),
            (TENSOR_NAMES[1], Dtype::F16, &f16s),
            (TENSOR_NAMES[2], Dtype::BF16, &bf16s),
        ] {
            let path = write(dir.path(), name, dtype, vec![3, 2], bytes);
            let v = TokenVectors::load(&path).unwrap();
            assert_eq!((v.dim, v.vocab()), (2, 3));
            assert_eq!(v.data, values, "{dtype:?}");
        }
        let path = write(
            dir.path(),
            "pooler.dense.weight",
            Dtype::F32,
            vec![3, 2],
            &f32s,
        );
        let err = TokenVectors::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("no token embedding table") && err.contains("pooler.dense.weight"),
            "{err}"
        );
        let path = write(dir.path(), TENSOR_NAMES[0], Dtype::F32, vec![6], &f32s);
        let err = TokenVectors::load(&path).unwrap_err().to_string();
        assert!(err.contains("shape [6], not [vocab, dim]"), "{err}");
        std::fs::write(&path, b"not safetensors").unwrap();
        let err = TokenVectors::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("model.safetensors: not a valid safetensors file"),
            "{err}"
        );
    }

    /// Ids whose unigrams share a bucket share its vector (the sum of theirs), as they share its
    /// row at serving; a table of another vocabulary is refused.
    #[test]
    fn bucket_vectors_sum_the_ids_of_a_bucket_and_check_the_vocabulary() {
        let tok = crate::tokenizer::train(&["alpha beta gamma", "beta delta alpha"], 100).unwrap();
        let vocab = tok.get_vocab_size(true);
        let f = Featuriser::new(FeaturiserConfig::new(5), tok);
        let dim = 3;
        let vectors = TokenVectors {
            dim,
            data: (0..vocab * dim).map(|i| i as f32 * 0.25).collect(),
        };
        let b = BucketVectors::new(&vectors, &f).unwrap();
        assert!(b.buckets.len() <= 5 && b.buckets.windows(2).all(|w| w[0] < w[1]));
        for &bucket in &b.buckets {
            let mut want = vec![0f32; dim];
            for id in (0..vocab as u32).filter(|&id| f.unigram_bucket(id) == bucket) {
                let v = &vectors.data[id as usize * dim..(id as usize + 1) * dim];
                want.iter_mut().zip(v).for_each(|(a, x)| *a += x);
            }
            assert_eq!(b.get(bucket).unwrap(), want.as_slice());
        }
        let e = Example {
            buckets: b.buckets.clone(),
            weights: vec![0.5; b.buckets.len()],
            dense: vec![],
        };
        let total: Vec<f32> = (0..dim)
            .map(|j| 0.5 * (0..vocab).map(|id| vectors.data[id * dim + j]).sum::<f32>())
            .collect();
        for (got, want) in b.mean(&e).iter().zip(&total) {
            assert!((got - want).abs() < 1e-3, "{got} vs {want}");
        }
        let short = TokenVectors {
            dim,
            data: vec![0.0; (vocab - 1) * dim],
        };
        let err = BucketVectors::new(&short, &f).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "have {} rows but the tokenizer has {vocab}",
                vocab - 1
            )),
            "{err}"
        );
    }
}
