//! Any bytes as the seed's JSON payment (its generators' files, its REST routes' bodies):
//! parsing never panics, and what parses is validated and normalized without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use payments_core::seed_json::from_json_text;
use payments_core::{PaymentValidator, ValidationMode, masking, normalize};

fuzz_target!(|data: &[u8]| {
    let Ok(mut payment) = from_json_text(data) else {
        return;
    };
    let _ = PaymentValidator::new(ValidationMode::Lenient).validate(&payment);
    normalize(&mut payment);
    let _ = masking::mask_text(&String::from_utf8_lossy(data));
});
