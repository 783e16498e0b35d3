//! Lookup structures of the WordPiece fast path, built once at load: whole words → id in an
//! open-addressing table (most words of a prompt are vocabulary entries: one hash, one probe),
//! and a byte trie for the greedy longest match of everything else.
//!
//! Both hold only pieces an ASCII, lower-cased, pre-tokenized word can match (word bytes only,
//! no upper case); the others can never match, so leaving them out changes no result.
use std::collections::HashMap;

use crate::ascii::{load, lower8, CLASS, LOWER, WORD};

/// "No id" / "no node".
pub(crate) const NONE: u32 = u32::MAX;

/// Whether `piece` can ever match (part of) an ASCII, lower-cased word.
pub(crate) fn matchable(piece: &[u8]) -> bool {
    !piece.is_empty()
        && piece
            .iter()
            .all(|&b| b.is_ascii() && CLASS[b as usize] == WORD && !b.is_ascii_uppercase())
}

/// The bytes of a key of each length as masks of its two words.
const KEEP: [(u64, u64); Key::MAX_LEN + 1] = {
    let mut t = [(0u64, 0u64); Key::MAX_LEN + 1];
    let mut n = 1;
    while n <= Key::MAX_LEN {
        t[n] = if n <= 8 {
            (u64::MAX >> (64 - 8 * n), 0)
        } else {
            (u64::MAX, u64::MAX >> (128 - 8 * n))
        };
        n += 1;
    }
    t
};

/// A word of at most [`Key::MAX_LEN`] bytes, lower-cased, as two little-endian `u64`s and its
/// length (the length tells `"ab\0"` from `"ab"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    lo: u64,
    hi: u64,
    len: u64,
}

impl Key {
    /// The longest word with a key.
    pub(crate) const MAX_LEN: usize = 16;

    /// The key of `b[i..i + len]` lower-cased (ASCII, `len` ≤ [`Key::MAX_LEN`]).
    #[inline(always)]
    pub(crate) fn of(b: &[u8], i: usize, len: usize) -> Key {
        let (n0, n1) = if len > 8 { (8, len - 8) } else { (len, 0) };
        Key {
            lo: lower8(load(b, i, n0)),
            hi: lower8(load(b, i + 8, n1)),
            len: len as u64,
        }
    }

    /// The key of the `len` bytes from `k` of a lower-cased block
    /// ([`crate::ascii::lower_block`], `k` < 64). A word longer than [`Key::MAX_LEN`] gets a key
    /// of its first bytes and its true length, which no table entry has: it is never found.
    #[inline(always)]
    pub(crate) fn of_lower(block: &[u8; 80], k: usize, len: usize) -> Key {
        // `k & 63` shows the compiler that the 16 bytes read stay in the block.
        let k = k & 63;
        let (lo_bytes, hi_bytes) = block[k..k + 16].split_at(8);
        let at = |h: &[u8]| u64::from_le_bytes(h.try_into().expect("8 bytes"));
        let (lo, hi) = KEEP[len.min(Key::MAX_LEN)];
        Key {
            lo: at(lo_bytes) & lo,
            hi: at(hi_bytes) & hi,
            len: len as u64,
        }
    }

    #[inline(always)]
    fn hash(&self) -> u64 {
        (self.lo ^ self.hi.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ self.len)
            .wrapping_mul(0xff51_afd7_ed55_8ccd)
    }
}

/// Whole words → token id: open addressing, linear probing, a power-of-two table at most half
/// full. An empty slot has `len == 0`.
#[derive(Debug, Clone)]
pub(crate) struct WordTable {
    slots: Vec<(Key, u32)>,
    shift: u32,
}

impl WordTable {
    /// A table of `entries` (distinct keys).
    pub(crate) fn new(entries: &[(Key, u32)]) -> WordTable {
        let cap = (2 * entries.len()).next_power_of_two().max(16);
        let empty = Key {
            lo: 0,
            hi: 0,
            len: 0,
        };
        let mut t = WordTable {
            slots: vec![(empty, NONE); cap],
            shift: 64 - cap.trailing_zeros(),
        };
        let mask = cap - 1;
        for &(k, id) in entries {
            let mut i = (k.hash() >> t.shift) as usize;
            while t.slots[i].0.len != 0 {
                i = (i + 1) & mask;
            }
            t.slots[i] = (k, id);
        }
        t
    }

    /// The id of the word `k`.
    #[inline]
    pub(crate) fn get(&self, k: &Key) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = (k.hash() >> self.shift) as usize;
        loop {
            let (s, id) = &self.slots[i];
            if s == k {
                return Some(*id);
            }
            if s.len == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// A trie node while building: the id of the piece ending here (or [`NONE`]) and its children.
#[derive(Debug, Clone, Default)]
struct Node {
    id: u32,
    children: Vec<(u8, u32)>,
}

/// One double-array slot: a node's `base` (its child by byte `b` sits at `base + b`), the
/// node that owns the slot (`check`) and the id of the piece ending here (or [`NONE`]).
#[derive(Debug, Clone, Copy)]
struct Slot {
    base: u32,
    check: u32,
    id: u32,
}

/// `check` of the two root slots (no node index reaches it).
const ROOT: u32 = NONE - 1;

/// A byte trie over the pieces as a double array: one root (slot 0) for word-initial pieces,
/// one (slot 1) for continuation pieces without their prefix. A step is two loads, no hashing.
#[derive(Debug, Clone)]
pub(crate) struct Trie {
    /// Padded so that `base + b` (b < 128) is always in bounds.
    slots: Vec<Slot>,
    /// The id of each one-byte continuation piece that no longer continuation piece extends
    /// (the whole match, without walking), or [`NONE`]; by byte, upper case included (pieces
    /// are lower case, words are matched lower-cased).
    cont_leaf: [u32; 256],
}

/// Trie builder: pieces in, [`Trie`] out.
#[derive(Debug)]
pub(crate) struct TrieBuilder {
    nodes: Vec<Node>,
    edges: HashMap<(u32, u8), u32>,
}

impl TrieBuilder {
    /// An empty trie with its two roots.
    pub(crate) fn new() -> Self {
        let root = Node {
            id: NONE,
            children: Vec::new(),
        };
        TrieBuilder {
            nodes: vec![root.clone(), root],
            edges: HashMap::new(),
        }
    }

    /// Add `piece` ([`matchable`]) under root 0 (initial) or 1 (continuation) with `id`.
    pub(crate) fn insert(&mut self, continuation: bool, piece: &[u8], id: u32) {
        let mut node = continuation as u32;
        for &b in piece {
            node = match self.edges.get(&(node, b)) {
                Some(&child) => child,
                None => {
                    let child = self.nodes.len() as u32;
                    self.nodes.push(Node {
                        id: NONE,
                        children: Vec::new(),
                    });
                    self.nodes[node as usize].children.push((b, child));
                    self.edges.insert((node, b), child);
                    child
                }
            };
        }
        self.nodes[node as usize].id = id;
    }

    /// The finished trie (`None` if it outgrows 32-bit slot numbers). Nodes are placed
    /// breadth first, each at the first base where all its children fit.
    pub(crate) fn build(mut self) -> Option<Trie> {
        let mut cont_leaf = [NONE; 256];
        for (b, leaf) in cont_leaf.iter_mut().enumerate().take(128) {
            if let Some(&v) = self.edges.get(&(1, (b as u8).to_ascii_lowercase())) {
                if self.nodes[v as usize].children.is_empty() {
                    *leaf = self.nodes[v as usize].id;
                }
            }
        }
        let empty = Slot {
            base: 0,
            check: NONE,
            id: NONE,
        };
        let mut slots = vec![empty; 2 + 128];
        slots[0].check = ROOT;
        slots[1].check = ROOT;
        let mut slot_of = vec![0usize; self.nodes.len()];
        slot_of[1] = 1;
        let mut queue = std::collections::VecDeque::from([0usize, 1]);
        // `free.find(i)`: the first free slot ≥ i. Bases are tried only where the first child
        // lands on a free slot, so a dense prefix of the array is skipped in one step.
        let mut free = FreeSlots::new(slots.len());
        free.take(0);
        free.take(1);
        while let Some(u) = queue.pop_front() {
            let s = slot_of[u];
            slots[s].id = self.nodes[u].id;
            let mut kids = std::mem::take(&mut self.nodes[u].children);
            if kids.is_empty() {
                continue;
            }
            kids.sort_unstable();
            let c0 = kids[0].0 as usize;
            let mut pos = free.find(2.max(c0));
            let base = loop {
                let base = pos - c0;
                let fits = |c: u8| slots.get(base + c as usize).is_none_or(|t| t.check == NONE);
                if kids.iter().all(|&(c, _)| fits(c)) {
                    break base;
                }
                pos = free.find(pos + 1);
            };
            if base + 128 >= slots.len() {
                slots.resize(base + 128 + 1, empty);
            }
            if slots.len() >= ROOT as usize {
                return None;
            }
            slots[s].base = base as u32;
            for (c, v) in kids {
                slots[base + c as usize].check = s as u32;
                free.take(base + c as usize);
                slot_of[v as usize] = base + c as usize;
                queue.push_back(v as usize);
            }
        }
        Some(Trie { slots, cont_leaf })
    }
}

/// Free slots of the double array being built: `find(i)` is the first slot ≥ `i` not yet
/// taken (slots past the array's end are free), with path halving as in union–find.
struct FreeSlots {
    /// `next[i] == i`: slot `i` is free; else some slot ≤ the first free one after `i`.
    next: Vec<usize>,
}

impl FreeSlots {
    fn new(len: usize) -> Self {
        FreeSlots {
            next: (0..=len).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        if i >= self.next.len() {
            let n = self.next.len();
            self.next.extend(n..=i);
            return i;
        }
        while self.next[i] != i {
            let up = self.next[self.next[i]];
            self.next[i] = up;
            i = up;
        }
        i
    }

    fn take(&mut self, i: usize) {
        if i + 1 >= self.next.len() {
            let n = self.next.len();
            self.next.extend(n..=i + 1);
        }
        self.next[i] = i + 1;
    }
}

impl Trie {
    /// The id of the one-byte continuation piece `b` (any case) when no longer continuation
    /// piece starts with it: then it is the whole longest match. Else [`NONE`].
    #[inline(always)]
    pub(crate) fn cont_leaf(&self, b: u8) -> u32 {
        self.cont_leaf[b as usize]
    }

    /// The longest piece that starts `word[start..]` (ASCII word bytes, any case), from the
    /// initial or continuation root: (its length in bytes, its id).
    #[inline(always)]
    pub(crate) fn longest(
        &self,
        word: &[u8],
        start: usize,
        continuation: bool,
    ) -> Option<(usize, u32)> {
        let mut s = continuation as usize;
        let mut best = None;
        for (i, &b) in word[start..].iter().enumerate() {
            let t = self.slots[s].base as usize + LOWER[b as usize] as usize;
            let slot = self.slots[t];
            if slot.check as usize != s {
                break;
            }
            s = t;
            if slot.id != NONE {
                best = Some((i + 1, slot.id));
            }
        }
        best
    }
}
