module github.com/dtecl/pipeline/tools

go 1.26
