//! Little-endian binary encoding helpers and the device record shared by both file formats.

use crate::device::Device;

#[derive(Default)]
pub(crate) struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
    }
    pub fn u16s(&mut self, v: &[u16]) {
        self.u32(v.len() as u32);
        self.buf.reserve(v.len() * 2);
        for x in v {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }
    pub fn u32s(&mut self, v: &[u32]) {
        self.u32(v.len() as u32);
        self.buf.reserve(v.len() * 4);
        for x in v {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }
    pub fn device(&mut self, d: &Device) {
        self.u32(d.id);
        self.u32(d.region);
        self.u32(d.zone);
        self.str(&d.ip);
        self.u16(d.port);
        self.str(&d.replication_ip);
        self.u16(d.replication_port);
        self.str(&d.device);
        self.f64(d.weight);
        self.str(&d.meta);
    }
}

/// A cursor over a body; every read fails cleanly at the end instead of panicking.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

pub(crate) type ReadResult<T> = Result<T, String>;

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    fn take(&mut self, n: usize) -> ReadResult<&'a [u8]> {
        if self.buf.len() < n {
            return Err("body ends early".into());
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> ReadResult<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    pub fn u8(&mut self) -> ReadResult<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> ReadResult<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> ReadResult<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> ReadResult<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub fn f64(&mut self) -> ReadResult<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }
    pub fn str(&mut self) -> ReadResult<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "string is not UTF-8".to_string())
    }
    pub fn u16s(&mut self) -> ReadResult<Vec<u16>> {
        let n = self.u32()? as usize;
        let raw = self.take(n.checked_mul(2).ok_or("length overflow")?)?;
        Ok(raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect())
    }
    pub fn u32s(&mut self) -> ReadResult<Vec<u32>> {
        let n = self.u32()? as usize;
        let raw = self.take(n.checked_mul(4).ok_or("length overflow")?)?;
        Ok(raw.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
    pub fn device(&mut self) -> ReadResult<Device> {
        Ok(Device {
            id: self.u32()?,
            region: self.u32()?,
            zone: self.u32()?,
            ip: self.str()?,
            port: self.u16()?,
            replication_ip: self.str()?,
            replication_port: self.u16()?,
            device: self.str()?,
            weight: self.f64()?,
            meta: self.str()?,
        })
    }
    pub fn finish(self) -> ReadResult<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(format!("{} unexpected trailing bytes", self.buf.len()))
        }
    }
}
