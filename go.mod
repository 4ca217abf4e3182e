module github.com/roomcast/roomcast

go 1.26

require github.com/gobwas/ws v1.4.0

require (
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	go.uber.org/goleak v1.3.0 // indirect
)
