//! One compiled [`Object`] made real on a [`Backend`]: its maps created
//! and filled, its programs loaded (not yet attached).

use crate::backend::{Backend, InstanceError, Map, Program};
use d_lang::codegen::Object;

/// Maps and loaded programs of one object.
pub struct Instance {
    /// The object (record and aggregation descriptions).
    pub object: Object,
    /// Maps, by the object's map index.
    pub maps: Vec<Box<dyn Map>>,
    /// Programs, by the object's program index.
    pub programs: Vec<Box<dyn Program>>,
    /// Where they run.
    pub backend: &'static dyn Backend,
}

impl Instance {
    /// Make `object` real on `backend`.
    pub fn new(object: Object, backend: &'static dyn Backend) -> Result<Instance, InstanceError> {
        let loaded = backend.instantiate(&object)?;
        Ok(Instance {
            object,
            maps: loaded.maps,
            programs: loaded.programs,
            backend,
        })
    }
}
