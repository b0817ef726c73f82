//! Server-side captcha images: distorted glyphs a person can read, as PNG.
//! A 5x7 bitmap font, scaled, each glyph shifted and sheared on its own, a
//! sine warp over the whole image, then noise lines and speckles.

use rand::Rng;

const W: usize = 180;
const H: usize = 60;

fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        _ => [0; 7],
    }
}

/// Digits only (the sandbox's numeric captcha).
pub const DIGITS: &str = "0123456789";
/// Letters and digits without look-alikes (0/O, 1/I/L).
pub const ALNUM: &str = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

pub fn random_text(rng: &mut impl Rng, alphabet: &str, len: usize) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    (0..len)
        .map(|_| chars[rng.random_range(0..chars.len())])
        .collect()
}

/// Renders `text` as an RGB PNG.
pub fn render_png(text: &str, rng: &mut impl Rng) -> Vec<u8> {
    // Ink coverage per pixel, 0..=255, drawn before the warp.
    let mut ink = vec![0u8; W * H];
    let n = text.chars().count().max(1);
    let cell = (W - 20) / n;
    let scale = 4usize;
    for (i, c) in text.chars().enumerate() {
        let g = glyph(c);
        let x0 = 10 + i * cell + rng.random_range(0..4);
        let y0 = 8 + rng.random_range(0..10) as usize;
        let shear: f32 = rng.random_range(-0.35..0.35);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let yy = y0 + row * scale + dy;
                        let xx = x0 as f32
                            + (col * scale + dx) as f32
                            + (row * scale + dy) as f32 * shear
                            - 4.0 * shear;
                        let xx = xx.round() as isize;
                        if xx >= 0 && (xx as usize) < W && yy < H {
                            ink[yy * W + xx as usize] = 255;
                        }
                    }
                }
            }
        }
    }
    // Sine warp: each column moves up or down, each row left or right.
    let amp_y: f32 = rng.random_range(2.0..4.0);
    let amp_x: f32 = rng.random_range(1.0..2.5);
    let phase: f32 = rng.random_range(0.0..std::f32::consts::TAU);
    let mut warped = vec![0u8; W * H];
    for y in 0..H {
        for x in 0..W {
            let sy = y as f32 + amp_y * ((x as f32) / 14.0 + phase).sin();
            let sx = x as f32 + amp_x * ((y as f32) / 9.0 + phase).cos();
            let (sx, sy) = (sx.round() as isize, sy.round() as isize);
            if sx >= 0 && sy >= 0 && (sx as usize) < W && (sy as usize) < H {
                warped[y * W + x] = ink[sy as usize * W + sx as usize];
            }
        }
    }
    let mut rgb = vec![0u8; W * H * 3];
    let bg = [
        rng.random_range(225..250u8),
        rng.random_range(225..250u8),
        rng.random_range(215..240u8),
    ];
    let fg = [
        rng.random_range(10..70u8),
        rng.random_range(20..80u8),
        rng.random_range(60..130u8),
    ];
    for i in 0..W * H {
        let c = if warped[i] > 0 { fg } else { bg };
        rgb[i * 3..i * 3 + 3].copy_from_slice(&c);
    }
    // Noise: thin lines through the text and speckles.
    for _ in 0..5 {
        let (mut x, mut y) = (rng.random_range(0..W) as f32, rng.random_range(0..H) as f32);
        let ang: f32 = rng.random_range(0.0..std::f32::consts::TAU);
        let col = [
            rng.random_range(60..160u8),
            rng.random_range(60..160u8),
            rng.random_range(60..160u8),
        ];
        for _ in 0..rng.random_range(60..160) {
            if x >= 0.0 && y >= 0.0 && (x as usize) < W && (y as usize) < H {
                let i = (y as usize * W + x as usize) * 3;
                rgb[i..i + 3].copy_from_slice(&col);
            }
            x += ang.cos();
            y += ang.sin();
        }
    }
    for _ in 0..500 {
        let i = rng.random_range(0..W * H) * 3;
        let v = rng.random_range(100..220u8);
        rgb[i..i + 3].copy_from_slice(&[v, v, v]);
    }
    encode_rgb(&rgb, W as u32, H as u32)
}

fn encode_rgb(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().expect("png header");
        wr.write_image_data(rgb).expect("png data");
    }
    out
}

/// A key for a PNG's pixels (RGB, alpha ignored), whatever its encoding:
/// the image a browser re-encodes from a canvas has the same key.
pub fn pixels_key(png_bytes: &[u8]) -> Option<u64> {
    let mut dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut r = dec.read_info().ok()?;
    let mut buf = vec![0; r.output_buffer_size()?];
    let info = r.next_frame(&mut buf).ok()?;
    let ch = info.color_type.samples();
    if ch < 3 {
        return None;
    }
    let mut h = 0xcbf29ce484222325u64 ^ ((info.width as u64) << 32 | info.height as u64);
    for px in buf[..info.buffer_size()].chunks(ch) {
        for b in &px[..3] {
            h = (h ^ *b as u64).wrapping_mul(0x100000001b3);
        }
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn renders_a_decodable_png_with_ink() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let text = random_text(&mut rng, ALNUM, 6);
        assert_eq!(text.len(), 6);
        let png_bytes = render_png(&text, &mut rng);
        let dec = png::Decoder::new(std::io::Cursor::new(&png_bytes));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (W as u32, H as u32));
        let dark = buf.chunks(3).filter(|p| p[0] < 90 && p[1] < 100).count();
        assert!(dark > 300, "too little ink: {dark}");
        assert!(pixels_key(&png_bytes).is_some());
        assert_ne!(
            pixels_key(&png_bytes),
            pixels_key(&render_png(&text, &mut rng)),
            "each render differs"
        );
        // Every glyph we may draw exists in the font.
        for c in ALNUM.chars().chain(DIGITS.chars()) {
            assert_ne!(glyph(c), [0; 7], "{c}");
        }
    }
}
