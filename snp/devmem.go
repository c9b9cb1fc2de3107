package snp

// Device memory: the part of the shared window the kernel gives devices
// (hal.DeviceMemory). Goroutine context.

// DeviceMemory returns the window's DevicePages device pages, shared
// with the host since Start and zeroed there: the kernel's view and
// their guest-physical address. The virtio driver puts its rings and
// bounce buffers here and copies every frame in and out, so nothing
// else of the kernel's is ever shared.
func (p *Platform) DeviceMemory() ([]byte, uint64) {
	if len(p.shared) < SharedPages*pageSize {
		return nil, 0 // not started
	}
	return p.shared[sharedDevice*pageSize : SharedPages*pageSize], p.sharedGPA + sharedDevice*pageSize
}
