//! Where each panel goes on the screen: a pure function of the screen's
//! size, so drawing and the mouse (which panel, which row was clicked)
//! always agree.
//!
//! ```text
//! +------------------ Zones ------------------+   30%
//! +------- VMs --------+----- Processes ------+   the rest in thirds
//! +----------------- Storage -----------------+   (its table is wide)
//! +----- Network ------+----- D console ------+
//!  footer: focus, refresh interval, keys            1 row
//! ```

use crate::panels::PanelId;
use ratatui::layout::Rect;

/// The screen's areas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    /// Each panel's area (empty if not shown).
    pub panels: Vec<(PanelId, Rect)>,
    /// The footer line.
    pub footer: Rect,
    /// Everything above the footer.
    pub body: Rect,
}

impl Screen {
    /// The area of `id`.
    pub fn area(&self, id: PanelId) -> Rect {
        self.panels
            .iter()
            .find(|(p, _)| *p == id)
            .map(|&(_, r)| r)
            .unwrap_or_default()
    }

    /// The panel at column `x`, row `y`.
    pub fn panel_at(&self, x: u16, y: u16) -> Option<PanelId> {
        self.panels
            .iter()
            .find(|(_, r)| r.width > 0 && r.height > 0 && contains(*r, x, y))
            .map(|&(p, _)| p)
    }
}

/// Whether `r` covers column `x`, row `y`.
pub fn contains(r: Rect, x: u16, y: u16) -> bool {
    x >= r.x && x < r.x.saturating_add(r.width) && y >= r.y && y < r.y.saturating_add(r.height)
}

/// The layout of a screen `area`; `zoomed` takes the whole body.
pub fn screen(area: Rect, zoomed: Option<PanelId>) -> Screen {
    let footer_h = area.height.min(1);
    let body = Rect {
        height: area.height - footer_h,
        ..area
    };
    let footer = Rect {
        y: area.y + body.height,
        height: footer_h,
        ..area
    };
    let panels = match zoomed {
        Some(id) => PanelId::ALL
            .iter()
            .map(|&p| (p, if p == id { body } else { Rect::default() }))
            .collect(),
        None => {
            let top_h = body.height * 3 / 10;
            let row_h = (body.height - top_h) / 3;
            let bottom_h = body.height - top_h - 2 * row_h;
            let left_w = body.width / 2;
            let right = |y: u16, height: u16| Rect {
                x: body.x + left_w,
                y,
                width: body.width - left_w,
                height,
            };
            let left = |y: u16, height: u16| Rect {
                y,
                height,
                width: left_w,
                ..body
            };
            let mid_y = body.y + top_h;
            let low_y = mid_y + row_h;
            vec![
                (
                    PanelId::Zones,
                    Rect {
                        height: top_h,
                        ..body
                    },
                ),
                (PanelId::Vms, left(mid_y, row_h)),
                (PanelId::Procs, right(mid_y, row_h)),
                (
                    PanelId::Storage,
                    Rect {
                        y: low_y,
                        height: row_h,
                        ..body
                    },
                ),
                (PanelId::Network, left(low_y + row_h, bottom_h)),
                (PanelId::Console, right(low_y + row_h, bottom_h)),
            ]
        }
    };
    Screen {
        panels,
        footer,
        body,
    }
}

/// A direction to move focus in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// H
    Left,
    /// J
    Down,
    /// K
    Up,
    /// L
    Right,
}

/// The panel next to `from` in direction `dir`: of the panels lying
/// wholly that way, those beside it (sharing rows for left/right, columns
/// for up/down) first, then the nearest, then the best aligned.
pub fn neighbour(screen: &Screen, from: PanelId, dir: Direction) -> Option<PanelId> {
    let f = screen.area(from);
    let span = |a: u16, alen: u16, b: u16, blen: u16| {
        let (a0, a1, b0, b1) = (
            i32::from(a),
            i32::from(a) + i32::from(alen),
            i32::from(b),
            i32::from(b) + i32::from(blen),
        );
        let overlap = a1.min(b1) > a0.max(b0);
        let centres = ((a0 + a1) - (b0 + b1)).abs();
        (overlap, centres)
    };
    screen
        .panels
        .iter()
        .filter(|(p, r)| *p != from && r.width > 0 && r.height > 0)
        .filter_map(|&(p, r)| {
            let gap = match dir {
                Direction::Left => i32::from(f.x) - i32::from(r.right()),
                Direction::Right => i32::from(r.x) - i32::from(f.right()),
                Direction::Up => i32::from(f.y) - i32::from(r.bottom()),
                Direction::Down => i32::from(r.y) - i32::from(f.bottom()),
            };
            let (overlap, across) = match dir {
                Direction::Left | Direction::Right => span(r.y, r.height, f.y, f.height),
                Direction::Up | Direction::Down => span(r.x, r.width, f.x, f.width),
            };
            (gap >= 0).then_some(((!overlap, gap, across), p))
        })
        .min_by_key(|&(rank, _)| rank)
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_tile_the_body_and_the_footer_is_last() {
        let s = screen(Rect::new(0, 0, 100, 41), None);
        assert_eq!(s.footer, Rect::new(0, 40, 100, 1));
        assert_eq!(s.area(PanelId::Zones), Rect::new(0, 0, 100, 12));
        assert_eq!(s.area(PanelId::Vms), Rect::new(0, 12, 50, 9));
        assert_eq!(s.area(PanelId::Procs), Rect::new(50, 12, 50, 9));
        assert_eq!(s.area(PanelId::Storage), Rect::new(0, 21, 100, 9));
        assert_eq!(s.area(PanelId::Network), Rect::new(0, 30, 50, 10));
        assert_eq!(s.area(PanelId::Console), Rect::new(50, 30, 50, 10));
        assert_eq!(s.panel_at(75, 15), Some(PanelId::Procs));
        assert_eq!(s.panel_at(75, 25), Some(PanelId::Storage));
        assert_eq!(s.panel_at(5, 40), None);
    }

    #[test]
    fn hjkl_move_between_neighbours() {
        let s = screen(Rect::new(0, 0, 100, 41), None);
        assert_eq!(
            neighbour(&s, PanelId::Vms, Direction::Right),
            Some(PanelId::Procs)
        );
        assert_eq!(
            neighbour(&s, PanelId::Procs, Direction::Left),
            Some(PanelId::Vms)
        );
        assert_eq!(
            neighbour(&s, PanelId::Procs, Direction::Up),
            Some(PanelId::Zones)
        );
        assert_eq!(
            neighbour(&s, PanelId::Vms, Direction::Down),
            Some(PanelId::Storage)
        );
        assert_eq!(
            neighbour(&s, PanelId::Storage, Direction::Down),
            Some(PanelId::Network)
        );
        assert_eq!(
            neighbour(&s, PanelId::Network, Direction::Right),
            Some(PanelId::Console)
        );
        assert_eq!(neighbour(&s, PanelId::Zones, Direction::Up), None);
        assert_eq!(
            neighbour(&s, PanelId::Zones, Direction::Down),
            Some(PanelId::Vms)
        );
        assert_eq!(
            neighbour(&s, PanelId::Console, Direction::Up),
            Some(PanelId::Storage)
        );
    }

    #[test]
    fn tiny_and_empty_screens_do_not_underflow() {
        for (w, h) in [(0, 0), (1, 1), (10, 5), (3, 2)] {
            let s = screen(Rect::new(0, 0, w, h), None);
            for (_, r) in &s.panels {
                assert!(r.right() <= w && r.bottom() <= h.max(1), "{w}x{h}: {r:?}");
            }
        }
    }
}
