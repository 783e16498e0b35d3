//! The tokenizer: trained on the training prompts (lower-case, BERT pre-tokenizer, WordPiece),
//! or loaded from a `tokenizer.json`.
use std::path::Path;

use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainer};
use tokenizers::models::TrainerWrapper;
use tokenizers::normalizers::Lowercase;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{AddedToken, Tokenizer};

use crate::error::{Error, Result};

/// Train a WordPiece tokenizer of at most `vocab_size` tokens on `texts`.
pub fn train(texts: &[&str], vocab_size: usize) -> Result<Tokenizer> {
    let model = WordPiece::builder()
        .unk_token("[UNK]".into())
        .build()
        .map_err(|e| Error::Tokenizer(e.to_string()))?;
    let mut tok = Tokenizer::new(model);
    let _ = tok.with_normalizer(Some(Lowercase));
    tok.with_pre_tokenizer(Some(BertPreTokenizer));
    let mut trainer: TrainerWrapper = WordPieceTrainer::builder()
        .vocab_size(vocab_size)
        .min_frequency(2)
        .show_progress(false)
        .special_tokens(vec![AddedToken::from("[UNK]", true)])
        .build()
        .into();
    tok.train(&mut trainer, texts.iter())
        .map_err(|e| Error::Tokenizer(e.to_string()))?;
    Ok(tok)
}

/// Load an existing `tokenizer.json`.
pub fn load(path: &Path) -> Result<Tokenizer> {
    Tokenizer::from_file(path).map_err(|e| Error::Tokenizer(format!("{}: {e}", path.display())))
}

/// The tokenizer as JSON (as written to the model folder).
pub fn to_json(tok: &Tokenizer) -> Result<String> {
    tok.to_string(true)
        .map_err(|e| Error::Tokenizer(e.to_string()))
}
