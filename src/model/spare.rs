//! [`Spare`]: an engine's parameters held out of line and absent until set. A job runs on
//! one engine, so the parameter blocks of the others cost a pointer each instead of
//! hundreds of bytes in every job held in memory (live, queued or cached).

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `T`, boxed once set; reads of an unset one see `T::default()`, and it serializes and
/// deserializes exactly as `T` does. A default value given to it (from JSON, where the
/// store writes every block, or through `From`) leaves it unset.
#[derive(Clone)]
pub struct Spare<T: Empty>(Option<Box<T>>);

/// A type whose default value a [`Spare`] can lend out while it holds none.
pub trait Empty: Default + PartialEq + Sized + 'static {
    /// The shared default value.
    fn empty() -> &'static Self;
}

/// Implements [`Empty`] for types whose default is built once and shared.
macro_rules! empty_default {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::model::spare::Empty for $t {
            fn empty() -> &'static Self {
                static EMPTY: std::sync::OnceLock<$t> = std::sync::OnceLock::new();
                EMPTY.get_or_init(<$t>::default)
            }
        }
    )*};
}
pub(crate) use empty_default;

impl<T: Empty> Spare<T> {
    /// Whether a value was ever set (or received).
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }
}

impl<T: Empty> Default for Spare<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<T: Empty> From<T> for Spare<T> {
    /// A default value leaves it unset.
    fn from(value: T) -> Self {
        Self((value != *T::empty()).then(|| Box::new(value)))
    }
}

impl<T: Empty> Deref for Spare<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_deref().unwrap_or_else(|| T::empty())
    }
}

impl<T: Empty> DerefMut for Spare<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T: Empty + fmt::Debug> fmt::Debug for Spare<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Empty + Serialize> Serialize for Spare<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

impl<'de, T: Empty + Deserialize<'de>> Deserialize<'de> for Spare<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Spec, WasmSpec};

    #[test]
    fn an_unset_spare_reads_and_serializes_as_the_default() {
        let spare = Spare::<WasmSpec>::default();
        assert!(!spare.is_set());
        assert_eq!(
            serde_json::to_value(&spare).unwrap(),
            serde_json::to_value(WasmSpec::default()).unwrap()
        );
        assert_eq!(
            std::mem::size_of::<Spare<WasmSpec>>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn writing_through_a_spare_sets_it_and_a_spec_round_trips() {
        let mut spec = Spec::default();
        spec.wasm.entry_point = "main".into();
        assert!(spec.wasm.is_set() && !spec.docker.is_set());
        let json = serde_json::to_string(&spec).unwrap();
        let back: Spec = serde_json::from_str(&json).unwrap();
        assert_eq!(back.wasm.entry_point, "main");
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert!(
            !back.docker.is_set() && !back.language.is_set(),
            "the default blocks that the JSON spells out stay unset"
        );
    }
}
