package conda

import "testing"

// FuzzDecodeRepoData checks that on any input the fast decoders and
// encoding/json either all fail or all produce the same records, and that
// nothing panics. The real repodata files are not seeds: TestDecodersAgreeOnRealRepodata
// covers them, and minimizing mutants of 25 kB inputs stalls the fuzzer.
func FuzzDecodeRepoData(f *testing.F) {
	seeds := []string{
		`{}`,
		`null`,
		`{"info":{"subdir":"linux-64","base_url":"https://x/"},"repodata_version":2,"removed":["a-1-0.tar.bz2",null]}`,
		`{"packages":{"a-1-0.tar.bz2":{"name":"a","version":"1.0","build":"py_0","build_number":0,"depends":["python >=3.9",null],"constrains":null,"track_features":"mkl","noarch":"python","timestamp":1700000000000,"size":12,"md5":"0","sha256":"1"}},"packages.conda":{"a-1-0.conda":{"name":"a","version":"1.0","track_features":["x"],"noarch":false}}}`,
		`{"PACKAGES":{"\u0061.conda":{"N\u0041ME":"\ud83d\ude00\ud800x","version":"1","Depends":["a"],"depends":[null]}}}`,
		`{"packages":null,"packages":{"k":null},"packages":{"k":{"name":"b","version":"2"}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodersAgree(t, data)
	})
}
