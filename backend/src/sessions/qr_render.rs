//! QR values as SVG or PNG images.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

pub fn svg(value: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(value.as_bytes(), EcLevel::L).ok()?;
    Some(code.render::<svg::Color>().min_dimensions(256, 256).quiet_zone(true).build())
}

pub fn png(value: &str) -> Option<Vec<u8>> {
    let code = QrCode::with_error_correction_level(value.as_bytes(), EcLevel::L).ok()?;
    let img = code.render::<image::Luma<u8>>().min_dimensions(256, 256).quiet_zone(true).build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_both_formats() {
        let v = "2@abc,def,ghi";
        assert!(super::svg(v).unwrap().starts_with("<?xml"));
        assert_eq!(&super::png(v).unwrap()[1..4], b"PNG");
    }
}
